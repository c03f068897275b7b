/** What the webhook routes do beyond one repository call: registering an endpoint, sending one event now. */
import type { FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { lastEventSeq } from '../../../db/repositories/events';
import {
  countLiveEndpoints,
  discardEndpoint,
  insertEndpoint,
  recordAttempt,
  toEndpoint,
  type EndpointRow,
} from '../../../db/repositories/webhooks';
import { WEBHOOK_ENDPOINTS_PER_SHOP_MAX, WEBHOOK_TEST_EVENT_TYPE } from '../../../domain/webhooks';
import { assertDeliverableUrl } from '../../../infra/network-policy';
import { newSigningSecret, sendWebhook } from '../../../infra/webhook-client';
import type { WebhookDeps } from '../../../infra/webhook-deps';
import { startOrWakeWebhookRun } from '../../../temporal/webhook-gateway';
import { ApiError } from '../../errors';
import type { createWebhookSchema } from './schemas';

type CreateBody = FromSchema<typeof createWebhookSchema.body>;

export function requireWebhooks(deps: WebhookDeps | undefined): WebhookDeps {
  if (!deps) throw new ApiError('webhooks_not_configured', 'webhooks need WEBHOOK_SECRET_KEY on the API and the worker', 503);
  return deps;
}

/** Registers an endpoint with a new secret (answered once) and starts its delivery run. */
export async function registerEndpoint(app: FastifyInstance, shopId: string, body: CreateBody, keyId: string | null) {
  const webhooks = requireWebhooks(app.deps.webhooks);
  await assertDeliverableUrl(body.url, webhooks.policy);
  if ((await countLiveEndpoints(app.deps.db, shopId)) >= WEBHOOK_ENDPOINTS_PER_SHOP_MAX) {
    throw new ApiError('too_many_webhooks', `a shop may register at most ${WEBHOOK_ENDPOINTS_PER_SHOP_MAX} webhook endpoints`, 409);
  }
  const secret = newSigningSecret();
  const row = await insertEndpoint(app.deps.db, {
    shopId,
    url: body.url,
    eventTypes: body.events ?? null,
    description: body.description ?? null,
    secretCiphertext: webhooks.box.seal(secret),
    cursor: await lastEventSeq(app.deps.db, shopId),
    createdByKey: keyId,
  });
  // Without its delivery run the endpoint would never deliver and its secret was never shown:
  // an outage here leaves nothing behind, and the retry the 503 invites creates it once.
  const { client, taskQueue } = app.deps.temporal;
  await startOrWakeWebhookRun(client, taskQueue, shopId, row.id).catch(async (err: unknown) => {
    await discardEndpoint(app.deps.db, shopId, row.id);
    throw err;
  });
  return { endpoint: toEndpoint(row), secret };
}

/** Delivers one body to the endpoint now, signed with its secret, and records the attempt. */
export async function deliverNow(
  app: FastifyInstance,
  webhooks: WebhookDeps,
  row: EndpointRow,
  message: { webhookId: string; body: string; eventSeq: number | null },
) {
  const result = await sendWebhook({
    url: row.url,
    secret: webhooks.box.open(row.secret_ciphertext),
    webhookId: message.webhookId,
    body: message.body,
    policy: webhooks.policy,
  });
  return recordAttempt(app.deps.db, {
    endpointId: row.id,
    shopId: row.shop_id,
    eventSeq: message.eventSeq,
    webhookId: message.webhookId,
    ...result,
  });
}

/** A test event (type WEBHOOK_TEST_EVENT_TYPE, seq null) in the shape of every delivery. */
export function testMessage(row: EndpointRow): { webhookId: string; body: string; eventSeq: null } {
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
  return { webhookId, body, eventSeq: null };
}
