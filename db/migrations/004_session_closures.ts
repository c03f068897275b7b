import type { Knex } from 'knex';

/**
 * Every close of a session, kept apart from the session row: a session whose request waited in the
 * offline pool is reopened by its assignment, and its row then describes the new life. The close
 * that sent it to the pool (queue_timeout, left_queue) stays here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('session_closures', (t) => {
    t.bigIncrements('id');
    t.text('shop_id').notNullable();
    t.text('session_id').notNullable();
    t.text('reason').notNullable();
    t.timestamp('closed_at', { useTz: true }).notNullable();
    t.text('agent_id');
    t.integer('message_count').notNullable().defaultTo(0);
    t.foreign(['shop_id', 'session_id']).references(['shop_id', 'session_id']).inTable('sessions').onDelete('CASCADE');
    t.index(['shop_id', 'session_id', 'closed_at']);
  });
  // Closes recorded before this table existed.
  await knex.raw(`
    INSERT INTO session_closures (shop_id, session_id, reason, closed_at, agent_id, message_count)
    SELECT shop_id, session_id, close_reason, closed_at, agent_id, message_count
    FROM sessions WHERE closed_at IS NOT NULL AND close_reason IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('session_closures');
}
