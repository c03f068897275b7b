import type { Knex } from 'knex';

/**
 * Service facts (docs/rules.md §10): one row per thing that happened to a session's service — an
 * assignment, a queue exit, a first response, a close — written in the transaction that changed the
 * session, and a rollup by shop-local day, agent and kind (with response-time buckets) kept in the
 * same statements, so a report reads a few thousand rollup rows rather than every session.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('session_facts', (t) => {
    t.bigIncrements('id').primary();
    t.text('shop_id').notNullable();
    t.text('session_id').notNullable();
    t.text('kind').notNullable(); // domain/service-levels.ts FACT_KINDS
    t.text('detail'); // how it was assigned, why it closed, …
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('agent_id');
    t.double('seconds'); // the duration the fact measures, if any
    t.integer('n').notNullable().defaultTo(1); // responses in this row (later replies are summed per quarter hour)
    t.index(['shop_id', 'session_id']);
  });
  await knex.schema.createTable('service_rollup', (t) => {
    t.text('shop_id').notNullable();
    t.date('day').notNullable(); // in the shop's time zone when the fact was recorded
    t.text('agent_id').notNullable().defaultTo(''); // '' when the fact has no agent
    t.text('kind').notNullable();
    t.text('detail').notNullable().defaultTo('');
    t.integer('bucket').notNullable().defaultTo(-1); // response-time bucket (first response, queue wait); -1 otherwise
    t.bigInteger('n').notNullable();
    t.double('seconds').notNullable().defaultTo(0); // summed over the facts that measure one
    t.bigInteger('timed').notNullable().defaultTo(0); // how many of the n measure one (seconds not null)
    t.primary(['shop_id', 'day', 'agent_id', 'kind', 'detail', 'bucket']);
  });
  await knex.schema.alterTable('sessions', (t) => {
    // When the buyer first wanted a human (start or 转人工) and when one first took the session: time to a human.
    t.timestamp('human_requested_at', { useTz: true });
    t.timestamp('first_assigned_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.dropColumn('human_requested_at');
    t.dropColumn('first_assigned_at');
  });
  await knex.schema.dropTable('service_rollup');
  await knex.schema.dropTable('session_facts');
}
