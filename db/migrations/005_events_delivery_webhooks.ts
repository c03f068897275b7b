import type { Knex } from 'knex';

/**
 * Events out (docs/rules.md §6) and the delivery pipeline:
 * - `events`: the per-shop event log. `seq` is the shop's cursor, taken from `shops.last_event_seq`
 *   under that row's lock in the very transaction of the change, so cursors are gapless and appear
 *   in commit order (a reader never sees seq n+1 before n).
 * - `outbox`: attempts, backoff, a lease instead of an open transaction, a dead-letter state, and the
 *   distribution run that wrote the row (delivery state per run).
 * - `sessions.awaiting_run`: the session's run waits in the offline pool for its assignment, so
 *   assigning it is a signal to a live run instead of a new start.
 * - webhook endpoints (secret encrypted, never stored in clear) and their delivery attempts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('shops', (t) => {
    t.bigInteger('last_event_seq').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.bigInteger('seq').notNullable();
    t.text('type').notNullable();
    t.text('session_id');
    t.jsonb('data').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // When the row was written (≈ its commit): what event latency is measured from.
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.unique(['shop_id', 'seq']);
  });

  await knex.schema.alterTable('outbox', (t) => {
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('lease_until', { useTz: true });
    t.text('last_error');
    t.timestamp('dead_at', { useTz: true });
    t.bigInteger('run_id');
  });
  await knex.raw('DROP INDEX IF EXISTS outbox_undelivered');
  await knex.raw('CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL AND dead_at IS NULL');
  await knex.raw('CREATE INDEX outbox_dead ON outbox (id) WHERE dead_at IS NOT NULL');
  await knex.raw('CREATE INDEX outbox_run ON outbox (run_id) WHERE run_id IS NOT NULL');

  await knex.schema.alterTable('sessions', (t) => {
    t.boolean('awaiting_run').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.text('id').primary();
    t.text('shop_id').notNullable().references('shops.id').onDelete('CASCADE');
    t.text('url').notNullable();
    t.specificType('event_types', 'text[]'); // null: every type
    t.text('description');
    t.text('secret_ciphertext').notNullable(); // AES-256-GCM under WEBHOOK_SECRET_KEY
    t.text('status').notNullable().defaultTo('active'); // active | paused | deleted
    t.text('paused_reason');
    t.bigInteger('cursor').notNullable().defaultTo(0); // every event up to here was delivered (or replay point)
    // Set when a replay moves the cursor back: deliveries made before it no longer count as done.
    t.timestamp('replayed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('replay_generation').notNullable().defaultTo(0);
    t.timestamp('failing_since', { useTz: true });
    t.text('created_by_key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['shop_id']);
  });
  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.text('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.text('shop_id').notNullable();
    t.bigInteger('event_seq'); // null for a test send
    t.text('webhook_id').notNullable();
    t.boolean('ok').notNullable();
    t.integer('status_code');
    t.text('error');
    t.integer('duration_ms').notNullable();
    t.timestamp('attempted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['endpoint_id', 'id']);
  });
  await knex.raw('CREATE INDEX webhook_attempts_delivered ON webhook_attempts (endpoint_id, event_seq) WHERE ok');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_attempts');
  await knex.schema.dropTable('webhook_endpoints');
  await knex.schema.alterTable('sessions', (t) => t.dropColumn('awaiting_run'));
  await knex.raw('DROP INDEX IF EXISTS outbox_due');
  await knex.raw('DROP INDEX IF EXISTS outbox_dead');
  await knex.raw('DROP INDEX IF EXISTS outbox_run');
  await knex.schema.alterTable('outbox', (t) => {
    for (const c of ['attempts', 'next_attempt_at', 'lease_until', 'last_error', 'dead_at', 'run_id']) t.dropColumn(c);
  });
  await knex.raw('CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL');
  await knex.schema.dropTable('events');
  await knex.schema.alterTable('shops', (t) => t.dropColumn('last_event_seq'));
}
