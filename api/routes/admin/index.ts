import type { FastifyInstance } from 'fastify';
import { issueApiKey } from '../../../db/repositories/api-keys';
import { listDeadLetters, outboxStats, retryDeadLetter } from '../../../db/repositories/outbox';
import { createShop, getShop } from '../../../db/repositories/shops';
import { startShopWorkflow } from '../../../temporal/shop-gateway';
import { authenticateAdmin } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { isValidTimeZone } from '../../../domain/time-zone';
import { typed } from '../../typed';
import { createShopSchema, getOutboxSchema, retryDeadLetterSchema, issueMerchantKeyAsAdminSchema } from './schemas';

/** Platform operator routes: create shops and issue their keys. Guarded by ADMIN_TOKEN. */
export default async function adminRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.addHook('onRequest', authenticateAdmin);

  app.post(
    '/shops',
    {
      config: { idempotent: true, errors: { 400: ['invalid_time_zone'], 409: ['shop_exists'] } },
      schema: createShopSchema,
    },
    async (req, reply) => {
      const timeZone = req.body.timeZone ?? 'Asia/Shanghai';
      if (!isValidTimeZone(timeZone)) throw new ApiError('invalid_time_zone', `unknown time zone ${JSON.stringify(timeZone)}`);
      const start = (shopId: string) => startShopWorkflow(app.deps.temporal.client, app.deps.temporal.taskQueue, shopId);
      const created = await createShop(app.deps.db, { id: req.body.id, name: req.body.name, timeZone }, start);
      if (!created) throw new ApiError('shop_exists', `shop ${req.body.id} already exists`, 409);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/outbox',
    {
      schema: getOutboxSchema,
    },
    async (req) => ({
      ...(await outboxStats(app.deps.db)),
      deadLetters: await listDeadLetters(app.deps.db, { limit: req.query.limit, afterId: req.query.after }),
    }),
  );

  app.post(
    '/outbox/:id/retry',
    {
      schema: retryDeadLetterSchema,
    },
    async (req, reply) => {
      if (!(await retryDeadLetter(app.deps.db, req.params.id))) throw notFound(`dead letter ${req.params.id}`);
      return reply.code(202).send({ retrying: true });
    },
  );

  app.post(
    '/shops/:shopId/keys',
    {
      config: { idempotent: true },
      schema: issueMerchantKeyAsAdminSchema,
    },
    async (req, reply) => {
      if (!(await getShop(app.deps.db, req.params.shopId))) throw notFound(`shop ${req.params.shopId}`);
      const apiKey = await issueApiKey(app.deps.db, req.params.shopId, 'shop', null, 'issued by admin');
      return reply.code(201).send({ apiKey });
    },
  );
}
