import type { FastifyInstance } from 'fastify';
import { getEventBySeq, lastEventSeq, wakeEventReaders } from '../../../db/repositories/events';
import {
  countLiveEndpoints,
  deleteEndpoint,
  getEndpointRow,
  discardEndpoint,
  insertEndpoint,
  listAttempts,
  listEndpoints,
  recordAttempt,
  resetEndpointCursor,
  toEndpoint,
  updateEndpoint,
  type EndpointRow,
} from '../../../db/repositories/webhooks';

import { WEBHOOK_ENDPOINTS_PER_SHOP_MAX, WEBHOOK_TEST_EVENT_TYPE } from '../../../domain/webhooks';
import { assertDeliverableUrl } from '../../../infra/network-policy';
import { newSigningSecret, sendWebhook } from '../../../infra/webhook-client';
import type { WebhookDeps } from '../../../infra/webhook-deps';
import { startOrWakeWebhookRun } from '../../../temporal/webhook-gateway';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import {
  type EndpointParams,
  createWebhookSchema,
  listWebhooksSchema,
  getWebhookSchema,
  updateWebhookSchema,
  deleteWebhookSchema,
  testWebhookSchema,
  listWebhookAttemptsSchema,
  redeliverWebhookEventSchema,
  replayWebhookEventsSchema,
} from './schemas';

function requireWebhooks(deps: WebhookDeps | undefined): WebhookDeps {
  if (!deps) throw new ApiError('webhooks_not_configured', 'webhooks need WEBHOOK_SECRET_KEY on the API and the worker', 503);
  return deps;
}

export default async function webhookRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  const { client, taskQueue } = app.deps.temporal;

  /** The endpoint's run re-reads it (resumed, replayed, edited, deleted); an activity long-polling for events looks again at once. */
  const wakeDelivery = async (shopId: string, endpointId: string) => {
    await startOrWakeWebhookRun(client, taskQueue, shopId, endpointId);
    await wakeEventReaders(app.deps.db, shopId);
  };

  const load = async (req: { params: EndpointParams }): Promise<EndpointRow> => {
    const row = await getEndpointRow(app.deps.db, req.params.shopId, req.params.endpointId);
    if (!row) throw notFound(`webhook endpoint ${req.params.endpointId}`);
    return row;
  };

  app.post(
    '/webhooks',
    {
      config: {
        idempotent: true,
        errors: {
          400: ['webhook_url_invalid', 'webhook_url_forbidden', 'webhook_url_unresolvable'],
          409: ['too_many_webhooks'],
          503: ['webhooks_not_configured'],
        },
      },
      schema: createWebhookSchema,
    },
    async (req, reply) => {
      const webhooks = requireWebhooks(app.deps.webhooks);
      const { shopId } = req.params;
      await assertDeliverableUrl(req.body.url, webhooks.policy);
      if ((await countLiveEndpoints(app.deps.db, shopId)) >= WEBHOOK_ENDPOINTS_PER_SHOP_MAX) {
        throw new ApiError('too_many_webhooks', `a shop may register at most ${WEBHOOK_ENDPOINTS_PER_SHOP_MAX} webhook endpoints`, 409);
      }
      const secret = newSigningSecret();
      const row = await insertEndpoint(app.deps.db, {
        shopId,
        url: req.body.url,
        eventTypes: req.body.events ?? null,
        description: req.body.description ?? null,
        secretCiphertext: webhooks.box.seal(secret),
        cursor: await lastEventSeq(app.deps.db, shopId),
        createdByKey: req.credential?.keyId ?? null,
      });
      // Without its delivery run the endpoint would never deliver and its secret was never shown:
      // an outage here leaves nothing behind, and the retry the 503 invites creates it once.
      await startOrWakeWebhookRun(client, taskQueue, shopId, row.id).catch(async (err: unknown) => {
        await discardEndpoint(app.deps.db, shopId, row.id);
        throw err;
      });
      return reply.code(201).send({ endpoint: toEndpoint(row), secret });
    },
  );

  app.get(
    '/webhooks',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: listWebhooksSchema,
    },
    async (req) => ({ items: await listEndpoints(app.deps.db, req.params.shopId) }),
  );

  app.get(
    '/webhooks/:endpointId',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: getWebhookSchema,
    },
    async (req) => toEndpoint(await load(req)),
  );

  app.patch(
    '/webhooks/:endpointId',
    {
      config: {
        errors: { 400: ['webhook_url_invalid', 'webhook_url_forbidden', 'webhook_url_unresolvable'], 503: ['webhooks_not_configured'] },
      },
      schema: updateWebhookSchema,
    },
    async (req) => {
      const webhooks = requireWebhooks(app.deps.webhooks);
      if (req.body.url !== undefined) await assertDeliverableUrl(req.body.url, webhooks.policy);
      const row = await updateEndpoint(app.deps.db, req.params.shopId, req.params.endpointId, {
        url: req.body.url,
        eventTypes: req.body.events,
        description: req.body.description,
        status: req.body.status,
      });
      if (!row) throw notFound(`webhook endpoint ${req.params.endpointId}`);
      await wakeDelivery(req.params.shopId, row.id);
      return toEndpoint(row);
    },
  );

  app.delete(
    '/webhooks/:endpointId',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: deleteWebhookSchema,
    },
    async (req, reply) => {
      if (!(await deleteEndpoint(app.deps.db, req.params.shopId, req.params.endpointId)))
        throw notFound(`webhook endpoint ${req.params.endpointId}`);
      // The run wakes, finds the endpoint gone and ends.
      await wakeDelivery(req.params.shopId, req.params.endpointId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/webhooks/:endpointId/test',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: testWebhookSchema,
    },
    async (req) => {
      const webhooks = requireWebhooks(app.deps.webhooks);
      const row = await load(req);
      const webhookId = `msg_test_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      const body = JSON.stringify({
        id: webhookId,
        shopId: row.shop_id,
        seq: null,
        type: WEBHOOK_TEST_EVENT_TYPE,
        sessionId: null,
        occurredAt: new Date().toISOString(),
        data: { endpointId: row.id },
      });
      const result = await sendWebhook({
        url: row.url,
        secret: webhooks.box.open(row.secret_ciphertext),
        webhookId,
        body,
        policy: webhooks.policy,
      });
      return recordAttempt(app.deps.db, { endpointId: row.id, shopId: row.shop_id, eventSeq: null, webhookId, ...result });
    },
  );

  app.get(
    '/webhooks/:endpointId/attempts',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: listWebhookAttemptsSchema,
    },
    async (req) => {
      const row = await load(req);
      return { items: await listAttempts(app.deps.db, row.id, { limit: req.query.limit, beforeId: req.query.before }) };
    },
  );

  app.post(
    '/webhooks/:endpointId/redeliver',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: redeliverWebhookEventSchema,
    },
    async (req) => {
      const webhooks = requireWebhooks(app.deps.webhooks);
      const row = await load(req);
      const event = await getEventBySeq(app.deps.db, row.shop_id, req.body.seq);
      if (!event) throw notFound(`event ${req.body.seq}`);
      const result = await sendWebhook({
        url: row.url,
        secret: webhooks.box.open(row.secret_ciphertext),
        webhookId: event.id,
        body: JSON.stringify(event),
        policy: webhooks.policy,
      });
      return recordAttempt(app.deps.db, { endpointId: row.id, shopId: row.shop_id, eventSeq: event.seq, webhookId: event.id, ...result });
    },
  );

  app.post(
    '/webhooks/:endpointId/replay',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: replayWebhookEventsSchema,
    },
    async (req) => {
      const row = await resetEndpointCursor(app.deps.db, req.params.shopId, req.params.endpointId, req.body.after);
      if (!row) throw notFound(`webhook endpoint ${req.params.endpointId}`);
      await wakeDelivery(req.params.shopId, row.id);
      return toEndpoint(row);
    },
  );
}
