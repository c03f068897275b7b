import type { Knex } from 'knex';
import { AGENT_LEFT_GRACE_MINUTES_DEFAULT } from '../../domain/limits';

/**
 * Handoff settings (docs/rules.md §9.2, §9.3) as part of the versioned session settings, and the
 * offline pool taking a session back: a re-route that finds nobody returns the session's one offline
 * message to `pending`, and the assignments it had before are marked superseded so the message can
 * be assigned once more (still at most once per time in the pool).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('session_settings_versions', (t) => {
    t.text('agent_left_mode').notNullable().defaultTo('reroute');
    t.integer('agent_left_grace_minutes').notNullable().defaultTo(AGENT_LEFT_GRACE_MINUTES_DEFAULT);
    t.integer('first_reply_minutes');
  });
  await knex.schema.alterTable('assignment_records', (t) => t.boolean('superseded').notNullable().defaultTo(false));
  await knex.raw('DROP INDEX assignment_records_message_once');
  await knex.raw(
    'CREATE UNIQUE INDEX assignment_records_message_once ON assignment_records (offline_message_id) WHERE offline_message_id IS NOT NULL AND NOT superseded',
  );
  // The agent's active sessions, read when it leaves and when its grace ends.
  await knex.raw(`CREATE INDEX sessions_active_by_agent ON sessions (agent_id) WHERE status = 'active'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS sessions_active_by_agent');
  await knex.raw('DROP INDEX assignment_records_message_once');
  await knex.raw(
    'CREATE UNIQUE INDEX assignment_records_message_once ON assignment_records (offline_message_id) WHERE offline_message_id IS NOT NULL',
  );
  await knex.schema.alterTable('assignment_records', (t) => t.dropColumn('superseded'));
  await knex.schema.alterTable('session_settings_versions', (t) => {
    t.dropColumn('agent_left_mode');
    t.dropColumn('agent_left_grace_minutes');
    t.dropColumn('first_reply_minutes');
  });
}
