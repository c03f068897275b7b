/**
 * The per-key rate limit's store (docs/rules.md §4.7; @fastify/rate-limit's `store` option), kept in Postgres so every
 * API process behind the load balancer spends the same budget: one upsert per request, on the
 * database's clock, so the processes agree on when a window ends.
 */
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import knex from 'knex';
import type { Db } from '../db/connection';

/** Rows of windows that ended this long ago are swept (about once per SWEEP_EVERY requests). */
const SWEEP_AFTER_MS = 10 * 60_000;
const SWEEP_EVERY = 1_000;
/** A store that does not answer in this time lets the request through (Postgres down: its route answers 503). */
const STORE_TIMEOUT_MS = 1_000;

const HIT_SQL = `
  INSERT INTO rate_limit_windows AS w (key, started_at, hits) VALUES (?, now(), 1)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN w.started_at + make_interval(secs => ? / 1000.0) <= now() THEN 1 ELSE w.hits + 1 END,
    started_at = CASE WHEN w.started_at + make_interval(secs => ? / 1000.0) <= now() THEN now() ELSE w.started_at END
  RETURNING hits, GREATEST(0, CEIL(EXTRACT(EPOCH FROM (started_at + make_interval(secs => ? / 1000.0) - now())) * 1000))::int AS ttl`;

/**
 * Its own small pool, so the budget check never waits behind the routes' queries (and an outage
 * costs it at most a second); close() ends it with the app.
 */
export function postgresRateLimitStore(appDb: Db): {
  Store: new (options: FastifyRateLimitOptions) => FastifyRateLimitStore;
  close(): Promise<void>;
} {
  // The app pool's own settings (knex keeps the password out of enumeration, so it is named here).
  const app = appDb.client.connectionSettings as Record<string, unknown> & { password?: string };
  const db = knex({
    client: 'pg',
    connection: { ...app, password: app.password, statement_timeout: STORE_TIMEOUT_MS },
    pool: { min: 0, max: 4 },
    acquireConnectionTimeout: STORE_TIMEOUT_MS,
  });
  let calls = 0;
  class PostgresStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      calls += 1;
      if (calls % SWEEP_EVERY === 0) {
        void db
          .raw(`DELETE FROM rate_limit_windows WHERE started_at < now() - make_interval(secs => ? / 1000.0)`, [SWEEP_AFTER_MS + timeWindow])
          .catch(() => {});
      }
      let answered = false;
      const answer = (error: Error | null, result?: { current: number; ttl: number }) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        callback(error, result);
      };
      const timer = setTimeout(() => answer(new Error('rate-limit store timed out')), STORE_TIMEOUT_MS);
      db.raw<{ rows: { hits: number; ttl: number }[] }>(HIT_SQL, [key, timeWindow, timeWindow, timeWindow]).then(
        (r) => answer(null, { current: r.rows[0].hits, ttl: r.rows[0].ttl }),
        (err: Error) => answer(err),
      );
    }
    child(): FastifyRateLimitStore {
      return new PostgresStore();
    }
  }
  return { Store: PostgresStore, close: () => db.destroy() };
}
