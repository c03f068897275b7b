import type { Knex } from 'knex';

/**
 * Every distribution run gets an idempotency key, not only scheduled ones: `slot:<iso>` for a
 * scheduled slot, `<shop workflow run id>:<sequence>` for run-now and agent-available runs, so a
 * retried activity returns the run it already made.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('distribution_runs', (t) => t.text('run_key'));
  await knex.raw(
    `UPDATE distribution_runs SET run_key = 'slot:' || to_char(slot AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') WHERE slot IS NOT NULL`,
  );
  await knex.raw('DROP INDEX distribution_runs_slot_once');
  await knex.raw('CREATE UNIQUE INDEX distribution_runs_key_once ON distribution_runs (shop_id, run_key) WHERE run_key IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX distribution_runs_key_once');
  await knex.raw('CREATE UNIQUE INDEX distribution_runs_slot_once ON distribution_runs (shop_id, slot) WHERE slot IS NOT NULL');
  await knex.schema.alterTable('distribution_runs', (t) => t.dropColumn('run_key'));
}
