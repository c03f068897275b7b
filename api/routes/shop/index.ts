import type { FastifyInstance } from 'fastify';
import { getShop, renameShop } from '../../../db/repositories/shops';
import { isValidTimeZone } from '../../../domain/time-zone';
import { actorOf } from '../../actor';
import { updateShopTimeZone } from '../../../temporal/shop-gateway';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import { getShopSchema, updateShopSchema } from './schemas';

/** The shop's own profile. A time-zone change goes through the shop run, which re-plans its next slot. */
export default async function shopRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '',
    {
      schema: getShopSchema,
    },
    async (req) => {
      const shop = await getShop(app.deps.db, req.params.shopId);
      if (!shop) throw notFound(`shop ${req.params.shopId}`);
      return shop;
    },
  );

  app.patch(
    '',
    {
      config: { errors: { 400: ['invalid_time_zone'] } },
      schema: updateShopSchema,
    },
    async (req) => {
      const { shopId } = req.params;
      const { name, timeZone, changedBy } = req.body;
      // Validate everything before changing anything.
      if (timeZone !== undefined && !isValidTimeZone(timeZone)) throw new ApiError('invalid_time_zone', `unknown time zone ${timeZone}`);
      const shop = await getShop(app.deps.db, shopId);
      if (!shop) throw notFound(`shop ${shopId}`);
      if (timeZone !== undefined && timeZone !== shop.timeZone) {
        const { client, taskQueue } = app.deps.temporal;
        await updateShopTimeZone(client, taskQueue, shopId, { timeZone, changedBy: actorOf(req, changedBy) });
      }
      if (name !== undefined) await renameShop(app.deps.db, shopId, name);
      return { ...shop, name: name ?? shop.name, timeZone: timeZone ?? shop.timeZone };
    },
  );
}
