import type { Knex } from 'knex';

/**
 * Transfers (转接, docs/rules.md §9.1): an assignment record of kind `transfer` names the agent it
 * took the session from, the group it was sent to (if any) and the note left with it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('assignment_records', (t) => {
    t.text('from_agent_id');
    t.text('note');
    t.text('group_id');
  });
  // The session read lists its transfers.
  await knex.raw(`CREATE INDEX assignment_records_session_transfers ON assignment_records (shop_id, session_id) WHERE kind = 'transfer'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS assignment_records_session_transfers');
  await knex.schema.alterTable('assignment_records', (t) => {
    t.dropColumn('from_agent_id');
    t.dropColumn('note');
    t.dropColumn('group_id');
  });
}
