import type { FastifyInstance } from 'fastify';
import { getEventBySeq, lastEventSeq, wakeEventReaders } from '../../../db/repositories/events';
import {
  countLiveEndpoints,
  deleteEndpoint,
  getEndpointRow,
  insertEndpoint,
  listAttempts,
  listEndpoints,
  recordAttempt,
  resetEndpointCursor,
  toEndpoint,
  updateEndpoint,
  type EndpointRow,
} from '../../../db/repositories/webhooks';
import { EVENT_TYPES } from '../../../domain/events';
import { PAGE_SIZE_MAX } from '../../../domain/limits';
import { WEBHOOK_ENDPOINTS_PER_SHOP_MAX, WEBHOOK_TEST_EVENT_TYPE, WEBHOOK_URL_MAX_LENGTH } from '../../../domain/webhooks';
import { assertDeliverableUrl } from '../../../infra/network-policy';
import { newSigningSecret, sendWebhook } from '../../../infra/webhook-client';
import type { WebhookDeps } from '../../../infra/webhook-deps';
import { startOrWakeWebhookRun } from '../../../temporal/webhook-gateway';
import { ApiError, notFound } from '../../errors';
import { errorResponses, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

const noNul = '^[^\\u0000]*$';
const urlField = {
  type: 'string',
  minLength: 8,
  maxLength: WEBHOOK_URL_MAX_LENGTH,
  pattern: '^https?://[^\\s\\u0000]+$',
  description: 'http(s) URL; private and loopback addresses are refused unless the operator allows them',
} as const;
const eventsField = {
  type: ['array', 'null'],
  items: { type: 'string', enum: [...EVENT_TYPES] },
  uniqueItems: true,
  maxItems: EVENT_TYPES.length,
  description: 'Event types to receive; null or absent: all',
} as const;
const descriptionField = { type: ['string', 'null'], maxLength: 500, pattern: noNul } as const;
const endpointParams = {
  type: 'object',
  required: ['shopId', 'endpointId'],
  properties: { ...shopParams.properties, endpointId: { type: 'string', pattern: '^whe_[a-f0-9]{20}$' } },
} as const;

type EndpointParams = { shopId: string; endpointId: string };

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
        errors: {
          400: ['webhook_url_invalid', 'webhook_url_forbidden', 'webhook_url_unresolvable'],
          409: ['too_many_webhooks'],
          503: ['webhooks_not_configured'],
        },
      },
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Register a webhook endpoint; the answer holds its signing secret (shown once)',
        description:
          'Deliveries start with the next event and are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).',
        security: securedByShopKey,
        params: shopParams,
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: { url: urlField, events: eventsField, description: descriptionField },
          examples: [
            { url: 'https://chat.example.com/hooks/cs', events: ['session.assigned', 'session.closed'], description: 'IM backend' },
          ],
        },
        response: {
          201: {
            type: 'object',
            required: ['endpoint', 'secret'],
            properties: {
              endpoint: { $ref: 'WebhookEndpoint#' },
              secret: { type: 'string', description: 'whsec_…: verify signatures with it; shown only now' },
            },
          },
          ...errorResponses,
          503: { $ref: 'Error#' },
        },
      },
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
      await startOrWakeWebhookRun(client, taskQueue, shopId, row.id);
      return reply.code(201).send({ endpoint: toEndpoint(row), secret });
    },
  );

  app.get(
    '/webhooks',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhooks',
        summary: "The shop's webhook endpoints (never their secrets)",
        security: securedByShopKey,
        params: shopParams,
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'WebhookEndpoint#' } } } },
          ...errorResponses,
        },
      },
    },
    async (req) => ({ items: await listEndpoints(app.deps.db, req.params.shopId) }),
  );

  app.get(
    '/webhooks/:endpointId',
    {
      config: { errors: { 503: ['webhooks_not_configured'] } },
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhook',
        summary: 'One webhook endpoint: status, cursor, why it is paused',
        security: securedByShopKey,
        params: endpointParams,
        response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
      },
    },
    async (req) => toEndpoint(await load(req)),
  );

  app.patch(
    '/webhooks/:endpointId',
    {
      config: {
        errors: { 400: ['webhook_url_invalid', 'webhook_url_forbidden', 'webhook_url_unresolvable'], 503: ['webhooks_not_configured'] },
      },
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change URL, event types or description; pause, or resume a paused endpoint (status: active)',
        security: securedByShopKey,
        params: endpointParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            url: urlField,
            events: eventsField,
            description: descriptionField,
            status: { type: 'string', enum: ['active', 'paused'] },
          },
        },
        response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses, 503: { $ref: 'Error#' } },
      },
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
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Remove an endpoint; its delivery run ends',
        security: securedByShopKey,
        params: endpointParams,
        response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses },
      },
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
      schema: {
        tags: ['webhooks'],
        operationId: 'testWebhook',
        summary: `Send a signed ${WEBHOOK_TEST_EVENT_TYPE} event now and answer with the attempt`,
        security: securedByShopKey,
        params: endpointParams,
        response: { 200: { $ref: 'WebhookAttempt#' }, ...errorResponses, 503: { $ref: 'Error#' } },
      },
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
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookAttempts',
        summary: 'Delivery attempts of an endpoint, newest first',
        security: securedByShopKey,
        params: endpointParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: 50 },
            before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'WebhookAttempt#' } } } },
          ...errorResponses,
        },
      },
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
      schema: {
        tags: ['webhooks'],
        operationId: 'redeliverWebhookEvent',
        summary: 'Send one event again now, with its original webhook-id; answers with the attempt',
        security: securedByShopKey,
        params: endpointParams,
        body: {
          type: 'object',
          required: ['seq'],
          additionalProperties: false,
          properties: { seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: { 200: { $ref: 'WebhookAttempt#' }, ...errorResponses, 503: { $ref: 'Error#' } },
      },
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
      schema: {
        tags: ['webhooks'],
        operationId: 'replayWebhookEvents',
        summary: 'Deliver every event after a cursor again (in order per session), and resume a paused endpoint',
        security: securedByShopKey,
        params: endpointParams,
        body: {
          type: 'object',
          required: ['after'],
          additionalProperties: false,
          properties: { after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
      },
    },
    async (req) => {
      const row = await resetEndpointCursor(app.deps.db, req.params.shopId, req.params.endpointId, req.body.after);
      if (!row) throw notFound(`webhook endpoint ${req.params.endpointId}`);
      await wakeDelivery(req.params.shopId, row.id);
      return toEndpoint(row);
    },
  );
}
