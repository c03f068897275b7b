import type { Knex } from 'knex';

/**
 * The whole domain: shops and their credentials, agents and routing groups, versioned settings,
 * sessions, the offline-message pool, distribution runs and assignment records, and the outbox
 * that carries post-commit signals to session runs.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('shops', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('time_zone').notNullable().defaultTo('Asia/Shanghai');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Only a SHA-256 of each key is stored; the key itself is shown once, at creation.
  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('kind').notNullable(); // 'shop' (merchant + chat backend) | 'agent'
    t.text('agent_id'); // set for agent keys
    t.text('key_hash').notNullable().unique();
    t.text('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.index(['shop_id']);
  });

  await knex.schema.createTable('agents', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('offline'); // online | suspended | offline
    t.integer('capacity').notNullable();
    // Live sessions held now; kept by conditional updates so it never passes capacity.
    t.integer('active_sessions').notNullable().defaultTo(0);
    // Tie-break for routing: the agent idle longest (oldest last assignment) wins.
    t.timestamp('last_assigned_at', { useTz: true });
    t.timestamp('status_changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['shop_id', 'status']);
  });
  await knex.raw('ALTER TABLE agents ADD CONSTRAINT agents_capacity_respected CHECK (active_sessions >= 0 AND capacity >= 0)');

  await knex.schema.createTable('agent_groups', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.specificType('scopes', 'text[]').notNullable(); // reception scope: topics the group serves
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['shop_id', 'name']);
  });

  await knex.schema.createTable('agent_group_members', (t) => {
    t.text('group_id').notNullable().references('agent_groups.id').onDelete('CASCADE');
    t.text('agent_id').notNullable().references('agents.id').onDelete('CASCADE');
    t.primary(['group_id', 'agent_id']);
    t.index(['agent_id']);
  });

  // Settings are versioned: the newest row is in force; sessions record the version they copied.
  await knex.schema.createTable('session_settings_versions', (t) => {
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.integer('buyer_idle_minutes').notNullable();
    t.text('changed_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['shop_id', 'version']);
  });

  await knex.schema.createTable('distribution_settings_versions', (t) => {
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.jsonb('settings').notNullable();
    t.text('changed_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['shop_id', 'version']);
  });

  await knex.schema.createTable('sessions', (t) => {
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('session_id').notNullable();
    t.text('buyer_id').notNullable();
    t.text('topic').notNullable();
    t.boolean('wants_human').notNullable().defaultTo(false);
    t.boolean('bot_engaged').notNullable().defaultTo(false);
    t.text('policy').notNullable(); // current | legacy
    t.integer('settings_version').notNullable();
    t.jsonb('settings_snapshot').notNullable();
    t.text('status').notNullable(); // open | queued | active | offline | closed
    t.text('agent_id').references('agents.id').onDelete('SET NULL');
    t.timestamp('queued_at', { useTz: true });
    t.timestamp('assigned_at', { useTz: true });
    t.timestamp('last_buyer_message_at', { useTz: true });
    t.timestamp('last_agent_message_at', { useTz: true });
    t.integer('message_count').notNullable().defaultTo(0);
    t.text('close_reason');
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['shop_id', 'session_id']);
    t.index(['shop_id', 'status', 'created_at']);
    t.index(['shop_id', 'created_at']);
  });
  // Queue pool, first come first served.
  await knex.raw(`CREATE INDEX sessions_queue_fifo ON sessions (shop_id, queued_at) WHERE status = 'queued'`);
  // Recent contact: the last agent who served this buyer.
  await knex.raw(`CREATE INDEX sessions_recent_contact ON sessions (shop_id, buyer_id, assigned_at DESC) WHERE agent_id IS NOT NULL`);
  // Pending-reply load per agent (distribution's average-pending condition).
  await knex.raw(`CREATE INDEX sessions_agent_active ON sessions (agent_id) WHERE status = 'active'`);

  await knex.schema.createTable('offline_messages', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('session_id').notNullable();
    t.text('buyer_id').notNullable();
    t.text('topic').notNullable();
    t.boolean('wants_human').notNullable();
    t.boolean('bot_engaged').notNullable();
    t.text('origin').notNullable(); // no_agent_online | left_queue
    t.text('status').notNullable().defaultTo('pending'); // pending | assigned | skipped
    t.text('agent_id').references('agents.id').onDelete('SET NULL');
    t.text('skip_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('resolved_at', { useTz: true });
    // One pool entry per session: re-creating it (a retried activity) is a no-op.
    t.unique(['shop_id', 'session_id']);
  });
  // The distribution query: a shop's pending messages, newest first.
  await knex.raw(
    `CREATE INDEX offline_messages_pending_newest ON offline_messages (shop_id, created_at DESC) INCLUDE (topic, wants_human, bot_engaged) WHERE status = 'pending'`,
  );

  await knex.schema.createTable('distribution_runs', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('trigger').notNullable(); // scheduled | manual | agent_available | dry_run
    // Scheduled runs are keyed by their slot so a retried activity never runs a slot twice.
    t.timestamp('slot', { useTz: true });
    t.integer('settings_version');
    t.jsonb('settings').notNullable();
    t.text('outcome').notNullable(); // succeeded | failed
    t.text('failure_reason');
    t.integer('eligible_count').notNullable().defaultTo(0);
    t.integer('assigned_count').notNullable().defaultTo(0);
    t.integer('skipped_count').notNullable().defaultTo(0);
    t.integer('run_limit');
    t.jsonb('per_agent').notNullable().defaultTo('{}');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['shop_id', 'started_at']);
  });
  await knex.raw(`CREATE UNIQUE INDEX distribution_runs_slot_once ON distribution_runs (shop_id, slot) WHERE slot IS NOT NULL`);

  await knex.schema.createTable('assignment_records', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.bigInteger('offline_message_id').references('offline_messages.id').onDelete('CASCADE');
    t.text('session_id').notNullable();
    t.text('agent_id');
    t.text('operator').notNullable(); // 系统自动分配 or the merchant user
    t.text('kind').notNullable(); // auto | manual | live
    t.text('outcome').notNullable(); // assigned | skipped
    t.text('reason'); // shown to the agent, or why it was skipped
    t.bigInteger('run_id').references('distribution_runs.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['shop_id', 'created_at']);
    t.index(['run_id']);
  });
  // A pool message is assigned (or skipped) at most once, whoever gets there first.
  await knex.raw(
    'CREATE UNIQUE INDEX assignment_records_message_once ON assignment_records (offline_message_id) WHERE offline_message_id IS NOT NULL',
  );

  // Transactional outbox: rows written in the same transaction as an assignment, then delivered
  // to Temporal as signals after commit; delivery marks them so nothing is sent twice.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable();
    t.text('kind').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('delivered_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'outbox',
    'assignment_records',
    'distribution_runs',
    'offline_messages',
    'sessions',
    'distribution_settings_versions',
    'session_settings_versions',
    'agent_group_members',
    'agent_groups',
    'agents',
    'api_keys',
    'shops',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
