import type { Knex } from 'knex';

/**
 * Creates that are safe to repeat (`Idempotency-Key`, docs/api.md): the first answer to a key is kept
 * for a day and replayed to every repeat of the same request.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('scope').notNullable(); // the shop (or admin) and the operation
    t.text('key').notNullable(); // a hash of the Idempotency-Key, never the key
    t.text('request_hash').notNullable();
    t.integer('status_code'); // null while the first request is in progress
    t.text('response'); // sealed with a key derived from the Idempotency-Key (api/idempotency.ts)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['scope', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
