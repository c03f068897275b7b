import type { FastifyInstance } from 'fastify';
import { getEventBySeq, wakeEventReaders } from '../../../db/repositories/events';
import {
  deleteEndpoint,
  getEndpointRow,
  listAttempts,
  listEndpoints,
  resetEndpointCursor,
  toEndpoint,
  updateEndpoint,
  type EndpointRow,
} from '../../../db/repositories/webhooks';
import { assertDeliverableUrl } from '../../../infra/network-policy';
import { startOrWakeWebhookRun } from '../../../temporal/webhook-gateway';
import { notFound } from '../../errors';
import { deliverNow, registerEndpoint, requireWebhooks, testMessage } from './handlers';
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
    async (req, reply) => reply.code(201).send(await registerEndpoint(app, req.params.shopId, req.body, req.credential?.keyId ?? null)),
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
      return deliverNow(app, webhooks, row, testMessage(row));
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
      return deliverNow(app, webhooks, row, { webhookId: event.id, body: JSON.stringify(event), eventSeq: event.seq });
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
