import type { Knex } from 'knex';

/**
 * Reads the console makes on every page: a session's latest assignment (its transfer message, e.g.
 * 离线留言分配) and an agent's own sessions.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS assignment_records_session ON assignment_records (shop_id, session_id, id)');
  await knex.raw('CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (shop_id, agent_id, created_at) WHERE agent_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS sessions_agent');
  await knex.raw('DROP INDEX IF EXISTS assignment_records_session');
}
