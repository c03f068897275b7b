import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface Shop {
  id: string;
  name: string;
  timeZone: string;
  createdAt: string;
}

export interface Credential {
  shopId: string;
  kind: 'shop' | 'agent';
  agentId: string | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function toShop(row: { id: string; name: string; time_zone: string; created_at: Date }): Shop {
  return { id: row.id, name: row.name, timeZone: row.time_zone, createdAt: row.created_at.toISOString() };
}

export async function getShop(db: Knex, shopId: string): Promise<Shop | null> {
  const row = await db('shops').where({ id: shopId }).first();
  return row ? toShop(row) : null;
}

/** Issues a new key; only its hash is stored, so this return value is the one chance to see it. */
export async function issueApiKey(db: Knex, shopId: string, kind: 'shop' | 'agent', agentId: string | null, label?: string): Promise<string> {
  const key = `csk_${randomBytes(24).toString('base64url')}`;
  await db('api_keys').insert({ id: randomUUID(), shop_id: shopId, kind, agent_id: agentId, key_hash: hashKey(key), label: label ?? null });
  return key;
}

/** Creates the shop and its first merchant key; false when the id is taken. */
export async function createShop(db: Knex, shop: { id: string; name: string; timeZone: string }): Promise<{ shop: Shop; apiKey: string } | null> {
  return db.transaction(async (tx) => {
    const inserted = await tx('shops')
      .insert({ id: shop.id, name: shop.name, time_zone: shop.timeZone })
      .onConflict('id')
      .ignore()
      .returning('*');
    if (inserted.length === 0) return null;
    const apiKey = await issueApiKey(tx, shop.id, 'shop', null, 'initial merchant key');
    return { shop: toShop(inserted[0]), apiKey };
  });
}

export async function findCredential(db: Knex, key: string): Promise<Credential | null> {
  const row = await db('api_keys').where({ key_hash: hashKey(key) }).whereNull('revoked_at').first('shop_id', 'kind', 'agent_id');
  return row ? { shopId: row.shop_id, kind: row.kind, agentId: row.agent_id } : null;
}
