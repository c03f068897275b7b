import type { FastifyInstance } from 'fastify';
import { issueApiKey } from '../../../db/repositories/api-keys';
import { listDeadLetters, outboxStats, retryDeadLetter } from '../../../db/repositories/outbox';
import { createShop, getShop } from '../../../db/repositories/shops';
import { startShopWorkflow } from '../../../temporal/shop-gateway';
import { authenticateAdmin } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { errorResponses, SHOP_ID_PATTERN } from '../../schemas';
import { isValidTimeZone } from '../../../domain/time-zone';
import { typed } from '../../typed';

const shopSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    timeZone: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** Platform operator routes: create shops and issue their keys. Guarded by ADMIN_TOKEN. */
export default async function adminRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.addHook('onRequest', authenticateAdmin);

  app.post(
    '/shops',
    {
      config: { idempotent: true, errors: { 400: ['invalid_time_zone'], 409: ['shop_exists'] } },
      schema: {
        operationId: 'createShop',
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

  app.get(
    '/outbox',
    {
      schema: {
        tags: ['admin'],
        operationId: 'getOutbox',
        summary: 'Delivery backlog (Postgres → Temporal) and the dead letters',
        security: [{ adminToken: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              pending: { type: 'integer' },
              due: { type: 'integer' },
              dead: { type: 'integer' },
              oldestPendingAgeMs: { type: ['integer', 'null'] },
              deadLetters: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    shopId: { type: 'string' },
                    kind: { type: 'string' },
                    attempts: { type: 'integer' },
                    lastError: { type: ['string', 'null'] },
                    createdAt: { type: 'string', format: 'date-time' },
                    deadAt: { type: 'string', format: 'date-time' },
                    payload: { type: 'object', additionalProperties: true },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => ({
      ...(await outboxStats(app.deps.db)),
      deadLetters: await listDeadLetters(app.deps.db, { limit: req.query.limit, afterId: req.query.after }),
    }),
  );

  app.post(
    '/outbox/:id/retry',
    {
      schema: {
        tags: ['admin'],
        operationId: 'retryDeadLetter',
        summary: 'Put a dead letter back into delivery with fresh attempts',
        security: [{ adminToken: [] }],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } },
        response: { 202: { type: 'object', properties: { retrying: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!(await retryDeadLetter(app.deps.db, req.params.id))) throw notFound(`dead letter ${req.params.id}`);
      return reply.code(202).send({ retrying: true });
    },
  );

  app.post(
    '/shops/:shopId/keys',
    {
      schema: {
        operationId: 'issueMerchantKeyAsAdmin',
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
