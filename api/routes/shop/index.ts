import type { FastifyInstance } from 'fastify';
import { getShop, renameShop } from '../../../db/repositories/shops';
import { isValidTimeZone } from '../../../domain/time-zone';
import { actorOf } from '../../actor';
import { updateShopTimeZone } from '../../../temporal/shop-gateway';
import { ApiError, notFound } from '../../errors';
import { errorResponses, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

const shopSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    timeZone: { type: 'string', description: 'IANA zone of the shop: distribution windows and shop days follow it' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** The shop's own profile. A time-zone change goes through the shop run, which re-plans its next slot. */
export default async function shopRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '',
    {
      schema: {
        operationId: 'getShop',
        tags: ['shop'],
        summary: 'The shop: name, time zone, created',
        security: securedByShopKey,
        params: shopParams,
        response: { 200: shopSchema, ...errorResponses },
      },
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
      schema: {
        operationId: 'updateShop',
        tags: ['shop'],
        summary: 'Rename the shop or change its time zone',
        description:
          'A new time zone reaches the shop workflow as the update updateShopTimeZone: the next distribution slot is planned in it at once, and daily counts are reported in it from then on. invalid_time_zone for a zone this server does not know.',
        security: securedByShopKey,
        params: shopParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            timeZone: { type: 'string', minLength: 1, maxLength: 64 },
            changedBy: { type: 'string', minLength: 1, maxLength: 200, description: 'Merchant user making the change' },
          },
        },
        response: { 200: shopSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { shopId } = req.params;
      const { name, timeZone, changedBy } = req.body;
      // Validate everything before changing anything.
      if (timeZone !== undefined && !isValidTimeZone(timeZone)) throw new ApiError('invalid_time_zone', `unknown time zone ${timeZone}`);
      if (name === undefined && timeZone === undefined) throw new ApiError('invalid_request', 'give name or timeZone');
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
