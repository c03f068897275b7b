import type { Knex } from 'knex';
import { issueApiKey } from './api-keys';

export interface Shop {
  id: string;
  name: string;
  timeZone: string;
  createdAt: string;
}

function toShop(row: { id: string; name: string; time_zone: string; created_at: Date }): Shop {
  return { id: row.id, name: row.name, timeZone: row.time_zone, createdAt: row.created_at.toISOString() };
}

export async function getShop(db: Knex, shopId: string): Promise<Shop | null> {
  const row = await db('shops').where({ id: shopId }).first();
  return row ? toShop(row) : null;
}

/**
 * Creates the shop and its first merchant key; null when the id is taken. `start` (the shop's run)
 * follows the commit: when it fails the shop is removed again, so an outage leaves nothing behind
 * (its key was never shown) and the retry the 503 invites creates it once.
 */
export async function createShop(
  db: Knex,
  shop: { id: string; name: string; timeZone: string },
  start?: (shopId: string) => Promise<void>,
): Promise<{ shop: Shop; apiKey: string } | null> {
  const created = await insertShop(db, shop);
  if (created && start) {
    await start(created.shop.id).catch(async (err: unknown) => {
      await db('shops').where({ id: created.shop.id }).delete();
      throw err;
    });
  }
  return created;
}

async function insertShop(db: Knex, shop: { id: string; name: string; timeZone: string }): Promise<{ shop: Shop; apiKey: string } | null> {
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

export async function setShopTimeZone(db: Knex, shopId: string, timeZone: string): Promise<void> {
  await db('shops').where({ id: shopId }).update({ time_zone: timeZone });
}

export async function renameShop(db: Knex, shopId: string, name: string): Promise<void> {
  await db('shops').where({ id: shopId }).update({ name });
}
