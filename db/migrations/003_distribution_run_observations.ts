import type { Knex } from 'knex';

/** What a run saw when it decided: online target agents and their average load. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('distribution_runs', (t) => {
    t.integer('online_agents');
    t.double('avg_pending');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('distribution_runs', (t) => {
    t.dropColumn('online_agents');
    t.dropColumn('avg_pending');
  });
}
