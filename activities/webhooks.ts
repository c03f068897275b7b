/**
 * Webhook delivery activities, driven by one `webhookEndpointWorkflow` per endpoint (retries, backoff
 * and pausing are that workflow's durable timers). One activity call takes a batch of the shop's
 * events after the endpoint's cursor (waiting, heartbeating, when there are none), sends them —
 * sessions in parallel, each session's events in order — and records every attempt.
 */
import { Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import type { PgListener } from '../db/notifications';
import { EVENTS_CHANNEL, listEvents } from '../db/repositories/events';
import { advanceEndpointCursor, deliveredSeqs, getEndpointRow, pauseEndpoint, recordAttempt } from '../db/repositories/webhooks';
import { orderingKeyOf, type ShopEvent } from '../domain/events';
import { WEBHOOK_BATCH_SIZE, WEBHOOK_SESSION_LANES } from '../domain/webhooks';
import type { WebhookDeps } from '../infra/webhook-deps';
import { sendWebhook } from '../infra/webhook-client';

export interface WebhookActivityDeps {
  db: Db;
  listener: () => PgListener;
  webhooks?: WebhookDeps;
}

export type DeliveryBatchResult =
  | { kind: 'gone' }
  | { kind: 'paused' }
  | { kind: 'idle' }
  | { kind: 'batch'; delivered: number; failed: number; cursor: number; more: boolean; lastError: string | null };

export function createWebhookActivities({ db, listener, webhooks }: WebhookActivityDeps) {
  return {
    async deliverWebhookEvents(req: { shopId: string; endpointId: string; idleWaitMs: number }): Promise<DeliveryBatchResult> {
      if (!webhooks) throw new Error('webhooks are not configured on this worker (WEBHOOK_SECRET_KEY)');
      const ctx = Context.current();
      let endpoint = await getEndpointRow(db, req.shopId, req.endpointId);
      if (!endpoint) return { kind: 'gone' };
      if (endpoint.status === 'paused') return { kind: 'paused' };
      const types = endpoint.event_types ?? undefined;
      let events = await listEvents(db, req.shopId, { after: Number(endpoint.cursor), limit: WEBHOOK_BATCH_SIZE, types });
      if (events.length === 0) {
        const beat = setInterval(() => ctx.heartbeat(), 2_000);
        try {
          await listener().wait(EVENTS_CHANNEL, req.idleWaitMs, (shop) => shop === req.shopId || shop === '', ctx.cancellationSignal);
        } finally {
          clearInterval(beat);
        }
        endpoint = await getEndpointRow(db, req.shopId, req.endpointId);
        if (!endpoint) return { kind: 'gone' };
        if (endpoint.status === 'paused') return { kind: 'paused' };
        events = await listEvents(db, req.shopId, { after: Number(endpoint.cursor), limit: WEBHOOK_BATCH_SIZE, types });
        if (events.length === 0) return { kind: 'idle' };
      }
      const ep = endpoint;
      const secret = webhooks.box.open(ep.secret_ciphertext);
      const done = await deliveredSeqs(db, ep.id, Number(ep.cursor), ep.replayed_at);
      let lastError: string | null = null;
      let failed = 0;

      const lanes = new Map<string, ShopEvent[]>();
      for (const e of events) lanes.set(orderingKeyOf(e), [...(lanes.get(orderingKeyOf(e)) ?? []), e]);
      const queues = [...lanes.values()];
      let next = 0;
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        const lane = async () => {
          while (next < queues.length) {
            for (const event of queues[next++]) {
              if (done.has(event.seq)) continue;
              const result = await sendWebhook({ url: ep.url, secret, webhookId: event.id, body: JSON.stringify(event), policy: webhooks.policy });
              await recordAttempt(db, { endpointId: ep.id, shopId: ep.shop_id, eventSeq: event.seq, webhookId: event.id, ...result });
              if (!result.ok) {
                // Later events of this session wait for this one: order per session.
                failed++;
                lastError = result.error;
                break;
              }
              done.add(event.seq);
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(WEBHOOK_SESSION_LANES, queues.length) }, lane));
      } finally {
        clearInterval(beat);
      }
      // The cursor moves to the last event before the first one still undelivered.
      let cursor = Number(ep.cursor);
      for (const e of events) {
        if (!done.has(e.seq)) break;
        cursor = e.seq;
      }
      if (failed === 0 && events.length < WEBHOOK_BATCH_SIZE) cursor = Math.max(cursor, events[events.length - 1].seq);
      const failingSince = failed > 0 ? (ep.failing_since ?? new Date()) : null;
      await advanceEndpointCursor(db, ep.id, ep.replay_generation, cursor, failingSince);
      return { kind: 'batch', delivered: events.length - failed, failed, cursor, more: events.length === WEBHOOK_BATCH_SIZE, lastError };
    },

    async pauseWebhookEndpoint(req: { endpointId: string; reason: string }): Promise<void> {
      await pauseEndpoint(db, req.endpointId, req.reason);
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
