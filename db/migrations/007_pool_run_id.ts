import type { Knex } from 'knex';

/**
 * `sessions.pool_run_id`: the Temporal run that waits in the offline pool for the session's
 * assignment. The relay signals that run by id, which spares the server a lookup of the workflow's
 * current run for every assignment (null for rows pooled before this column: signalled by workflow id).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => t.text('pool_run_id'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => t.dropColumn('pool_run_id'));
}
