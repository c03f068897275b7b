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
import {
  advanceEndpointCursor,
  deliveredSeqs,
  getEndpointRow,
  pauseEndpoint,
  recordAttempt,
  type EndpointRow,
} from '../db/repositories/webhooks';
import type { ShopEvent } from '../contracts/shapes';
import { orderingKeyOf } from '../domain/events';
import { WEBHOOK_ACTIVITY_BUDGET_MS, WEBHOOK_BATCH_SIZE, WEBHOOK_SESSION_LANES } from '../domain/webhooks';
import type { WebhookDeps } from '../infra/webhook-deps';
import { inOrderPerKey } from '../infra/lanes';
import { assertDeliverableUrl } from '../infra/network-policy';
import { sendWebhook } from '../infra/webhook-client';
import { workerMetrics } from '../infra/worker-metrics';

export interface WebhookActivityDeps {
  db: Db;
  listener: () => PgListener;
  webhooks?: WebhookDeps;
}

export type DeliveryBatchResult =
  | { kind: 'gone' }
  | { kind: 'paused' }
  | { kind: 'idle' }
  | { kind: 'batch'; delivered: number; failed: number; cursor: number; lastError: string | null };

export function createWebhookActivities({ db, listener, webhooks }: WebhookActivityDeps) {
  /** Sends one batch: sessions in parallel lanes, each session's events in order, every attempt recorded. */
  async function deliverBatch(
    ep: EndpointRow,
    events: ShopEvent[],
  ): Promise<{ delivered: number; failed: number; cursor: number; lastError: string | null }> {
    const secret = webhooks!.box.open(ep.secret_ciphertext);
    const done = await deliveredSeqs(db, ep.id, Number(ep.cursor), ep.replayed_at);
    let lastError: string | null = null;
    let failed = 0;
    let sent = 0;
    // Once per batch (not per event): the URL must still resolve to an address webhooks may reach.
    const refused = await assertDeliverableUrl(ep.url, webhooks!.policy).then(
      () => null,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await inOrderPerKey(events, orderingKeyOf, WEBHOOK_SESSION_LANES, async (group) => {
      for (const event of group) {
        if (done.has(event.seq)) continue;
        const result = refused
          ? { ok: false, statusCode: null, error: refused, durationMs: 0 }
          : await sendWebhook({ url: ep.url, secret, webhookId: event.id, body: JSON.stringify(event) });
        await recordAttempt(db, { endpointId: ep.id, shopId: ep.shop_id, eventSeq: event.seq, webhookId: event.id, ...result });
        workerMetrics().webhookDeliveries.add(1, { outcome: result.ok ? 'ok' : 'failed' });
        if (!result.ok) {
          // Later events of this session wait for this one: order per session.
          failed++;
          lastError = result.error;
          break;
        }
        sent++;
        done.add(event.seq);
      }
    });
    // The cursor moves to the last event before the first one still undelivered.
    let cursor = Number(ep.cursor);
    for (const e of events) {
      if (!done.has(e.seq)) break;
      cursor = e.seq;
    }
    await advanceEndpointCursor(db, ep.id, ep.replay_generation, cursor, failed > 0 ? (ep.failing_since ?? new Date()) : null);
    return { delivered: sent, failed, cursor, lastError };
  }

  return {
    /**
     * Delivers batch after batch for up to WEBHOOK_ACTIVITY_BUDGET_MS, waiting (long-polling) for new
     * events while idle; answers at the first failure, so the workflow backs off on a durable timer.
     */
    async deliverWebhookEvents(req: { shopId: string; endpointId: string; idleWaitMs: number }): Promise<DeliveryBatchResult> {
      if (!webhooks) throw new Error('webhooks are not configured on this worker (WEBHOOK_SECRET_KEY)');
      const ctx = Context.current();
      const started = Date.now();
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      let delivered = 0;
      let cursor = 0;
      try {
        for (;;) {
          const ep = await getEndpointRow(db, req.shopId, req.endpointId);
          if (!ep) return { kind: 'gone' };
          if (ep.status === 'paused') return { kind: 'paused' };
          const events = await listEvents(db, req.shopId, {
            after: Number(ep.cursor),
            limit: WEBHOOK_BATCH_SIZE,
            types: ep.event_types ?? undefined,
          });
          if (events.length === 0) {
            const idle = () =>
              delivered > 0 ? { kind: 'batch' as const, delivered, failed: 0, cursor, lastError: null } : { kind: 'idle' as const };
            if (req.idleWaitMs <= 0 || Date.now() - started >= WEBHOOK_ACTIVITY_BUDGET_MS || ctx.cancellationSignal.aborted) return idle();
            const before = Date.now();
            await listener().wait(
              EVENTS_CHANNEL,
              Math.min(req.idleWaitMs, WEBHOOK_ACTIVITY_BUDGET_MS),
              (shop) => shop === req.shopId || shop === '',
              ctx.cancellationSignal,
            );
            // A full wait with nothing new: let the workflow loop (and continue-as-new when it should).
            if (Date.now() - before >= req.idleWaitMs) return idle();
            continue;
          }
          const result = await deliverBatch(ep, events);
          delivered += result.delivered;
          cursor = result.cursor;
          if (result.failed > 0) return { kind: 'batch', ...result, delivered };
        }
      } finally {
        clearInterval(beat);
      }
    },

    async pauseWebhookEndpoint(req: { endpointId: string; reason: string }): Promise<void> {
      await pauseEndpoint(db, req.endpointId, req.reason);
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
