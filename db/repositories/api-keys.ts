import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export type KeyKind = 'shop' | 'agent';

export interface Credential {
  shopId: string;
  kind: KeyKind;
  agentId: string | null;
  keyId: string;
  label: string | null;
}

/** What a merchant may see of a key: never the key itself, only a SHA-256 of it is stored. */
export interface ApiKeyRecord {
  id: string;
  kind: KeyKind;
  agentId: string | null;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

interface ApiKeyRow {
  id: string;
  kind: KeyKind;
  agent_id: string | null;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  kind: row.kind,
  agentId: row.agent_id,
  label: row.label,
  createdAt: row.created_at.toISOString(),
  revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
});

/** Issues a new key; only its hash is stored, so this return value is the one chance to see it. */
export async function issueApiKey(db: Knex, shopId: string, kind: KeyKind, agentId: string | null, label?: string): Promise<string> {
  return (await issueApiKeyRecord(db, shopId, kind, agentId, label)).apiKey;
}

export async function issueApiKeyRecord(
  db: Knex,
  shopId: string,
  kind: KeyKind,
  agentId: string | null,
  label?: string,
): Promise<{ key: ApiKeyRecord; apiKey: string }> {
  const apiKey = `csk_${randomBytes(24).toString('base64url')}`;
  const [row] = await db('api_keys')
    .insert({ id: randomUUID(), shop_id: shopId, kind, agent_id: agentId, key_hash: hashKey(apiKey), label: label ?? null })
    .returning('*');
  return { key: toRecord(row), apiKey };
}

export async function findCredential(db: Knex, key: string): Promise<Credential | null> {
  const row = await db('api_keys')
    .where({ key_hash: hashKey(key) })
    .whereNull('revoked_at')
    .first('id', 'shop_id', 'kind', 'agent_id', 'label');
  return row ? { shopId: row.shop_id, kind: row.kind, agentId: row.agent_id, keyId: row.id, label: row.label } : null;
}

export async function listApiKeys(db: Knex, shopId: string, opts: { includeRevoked: boolean }): Promise<ApiKeyRecord[]> {
  const q = db('api_keys')
    .where({ shop_id: shopId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }]);
  if (!opts.includeRevoked) q.whereNull('revoked_at');
  return (await q.select<ApiKeyRow[]>('id', 'kind', 'agent_id', 'label', 'created_at', 'revoked_at')).map(toRecord);
}

export type RevokeOutcome = { kind: 'revoked'; key: ApiKeyRecord } | { kind: 'not_found' } | { kind: 'last_merchant_key' };

/**
 * Revokes one of the shop's keys; at once, since every request looks its key up. Revoking twice
 * returns the first revocation. The shop's last live merchant key stays: without it nobody but the
 * platform admin could manage the shop again.
 */
export async function revokeApiKey(db: Knex, shopId: string, keyId: string, at: Date): Promise<RevokeOutcome> {
  return db.transaction(async (tx) => {
    // One revocation per shop at a time, so two concurrent calls cannot both pass the last-key check.
    const live = await tx('api_keys').where({ shop_id: shopId, kind: 'shop' }).whereNull('revoked_at').forUpdate().select('id');
    const row = await tx('api_keys').where({ shop_id: shopId, id: keyId }).first<ApiKeyRow | undefined>();
    if (!row) return { kind: 'not_found' };
    if (row.revoked_at) return { kind: 'revoked', key: toRecord(row) };
    if (row.kind === 'shop' && live.length <= 1) return { kind: 'last_merchant_key' };
    const [updated] = await tx('api_keys').where({ id: keyId }).update({ revoked_at: at }).returning('*');
    return { kind: 'revoked', key: toRecord(updated) };
  });
}
