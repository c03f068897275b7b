import knex, { Knex } from 'knex';
import pg from 'pg';

// COUNT(*) and BIGINT ids come back as strings by default; every count here fits a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Db = Knex;

export function createDb(databaseUrl: string, pool: { min?: number; max?: number } = {}): Db {
  return knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    // A request waiting for a connection gives up soon (503) instead of hanging through an outage.
    acquireConnectionTimeout: 5_000,
  });
}
