import type { Knex } from 'knex';

/**
 * The per-key request budget, shared by every API process (api/rate-limit-store.ts). Unlogged: a
 * window is a minute long, so losing the counts in a Postgres crash only resets the budgets.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE UNLOGGED TABLE rate_limit_windows (
    key text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    hits integer NOT NULL
  )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limit_windows');
}
