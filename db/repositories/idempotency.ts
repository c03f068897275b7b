/**
 * Stored first answers for `Idempotency-Key` (docs/rules.md §4.6; api/idempotency.ts). A key is claimed before the work
 * runs, so two concurrent requests with one key never both run; the claim becomes the answer once
 * the work is done, or is released when it failed in a way a retry may fix.
 */
import type { Knex } from 'knex';
import { IDEMPOTENCY_CLAIM_STALE_MS, IDEMPOTENCY_KEY_TTL_MS } from '../../domain/limits';

export type Claim =
  { kind: 'claimed' } | { kind: 'in_progress' } | { kind: 'mismatch' } | { kind: 'replay'; statusCode: number; response: string };

export async function claimIdempotencyKey(db: Knex, scope: string, key: string, requestHash: string, now: Date): Promise<Claim> {
  const expiredBefore = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString();
  // A key past its day is free again, and so is a claim whose request died without an answer (its
  // process crashed): longer than any request runs.
  const { rows } = await db.raw(
    `INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL, created_at = EXCLUDED.created_at
       WHERE idempotency_keys.created_at < ? OR (idempotency_keys.status_code IS NULL AND idempotency_keys.created_at < ?)
     RETURNING 1`,
    [scope, key, requestHash, now.toISOString(), expiredBefore, new Date(now.getTime() - IDEMPOTENCY_CLAIM_STALE_MS).toISOString()],
  );
  if (rows.length > 0) return { kind: 'claimed' };
  const row = await db('idempotency_keys').where({ scope, key }).first('request_hash', 'status_code', 'response');
  if (!row) return claimIdempotencyKey(db, scope, key, requestHash, now);
  if (row.request_hash !== requestHash) return { kind: 'mismatch' };
  if (row.status_code === null) return { kind: 'in_progress' };
  return { kind: 'replay', statusCode: row.status_code, response: row.response };
}

export async function completeIdempotencyKey(db: Knex, scope: string, key: string, statusCode: number, response: string): Promise<void> {
  await db('idempotency_keys').where({ scope, key }).update({ status_code: statusCode, response });
}

export async function releaseIdempotencyKey(db: Knex, scope: string, key: string): Promise<void> {
  await db('idempotency_keys').where({ scope, key }).whereNull('status_code').delete();
}

/**
 * Deletes answers past their day, in batches, so the table holds about one day of keys. The API
 * processes call it every IDEMPOTENCY_PURGE_EVERY_MS (api/server.ts); answers how many went.
 */
export async function purgeExpiredIdempotencyKeys(db: Knex, now: Date, batch = 1_000): Promise<number> {
  const before = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString();
  let purged = 0;
  for (;;) {
    const { rowCount } = await db.raw(
      'DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
      [before, batch],
    );
    purged += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return purged;
  }
}
