import type { FastifyInstance } from 'fastify';
import { issueApiKey } from '../../../db/repositories/api-keys';
import { createShop, getShop } from '../../../db/repositories/shops';
import { startShopWorkflow } from '../../../temporal/shop-gateway';
import { authenticateAdmin } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { errorResponses, SHOP_ID_PATTERN } from '../../schemas';
import { isValidTimeZone } from '../../../domain/time-zone';

const shopSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, timeZone: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
} as const;

/** Platform operator routes: create shops and issue their keys. Guarded by ADMIN_TOKEN. */
export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', authenticateAdmin);

  app.post<{ Body: { id: string; name: string; timeZone?: string } }>(
    '/shops',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a shop, start its shop workflow, and return its first merchant API key (shown once)',
        security: [{ adminToken: [] }],
        body: {
          type: 'object',
          required: ['id', 'name'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: SHOP_ID_PATTERN },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            timeZone: { type: 'string', default: 'Asia/Shanghai', description: 'IANA time zone for distribution windows and daily counts' },
          },
        },
        response: {
          201: { type: 'object', properties: { shop: shopSchema, apiKey: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const timeZone = req.body.timeZone ?? 'Asia/Shanghai';
      if (!isValidTimeZone(timeZone)) throw new ApiError('invalid_time_zone', `unknown time zone ${JSON.stringify(timeZone)}`);
      const created = await createShop(app.deps.db, { id: req.body.id, name: req.body.name, timeZone });
      if (!created) throw new ApiError('shop_exists', `shop ${req.body.id} already exists`, 409);
      await startShopWorkflow(app.deps.temporal.client, app.deps.temporal.taskQueue, created.shop.id);
      return reply.code(201).send(created);
    },
  );

  app.post<{ Params: { shopId: string } }>(
    '/shops/:shopId/keys',
    {
      schema: {
        tags: ['admin'],
        summary: 'Issue another merchant API key for a shop (shown once)',
        security: [{ adminToken: [] }],
        params: { type: 'object', required: ['shopId'], properties: { shopId: { type: 'string', pattern: SHOP_ID_PATTERN } } },
        response: { 201: { type: 'object', properties: { apiKey: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!(await getShop(app.deps.db, req.params.shopId))) throw notFound(`shop ${req.params.shopId}`);
      const apiKey = await issueApiKey(app.deps.db, req.params.shopId, 'shop', null, 'issued by admin');
      return reply.code(201).send({ apiKey });
    },
  );
}

