import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/connection';
import { createShop } from '../../db/repositories/shops';

/** A shop with a unique id and its merchant key. */
export async function seedShop(db: Db, opts: { timeZone?: string; prefix?: string } = {}): Promise<{ shopId: string; apiKey: string }> {
  const shopId = `${opts.prefix ?? 'shop'}-${randomBytes(4).toString('hex')}`;
  const created = await createShop(db, { id: shopId, name: `Shop ${shopId}`, timeZone: opts.timeZone ?? 'Asia/Shanghai' });
  if (!created) throw new Error(`shop ${shopId} exists`);
  return { shopId, apiKey: created.apiKey };
}
