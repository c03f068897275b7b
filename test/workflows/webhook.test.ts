/**
 * Webhook delivery on the time-skipping server with real Postgres and a real receiver on loopback:
 * a receiver down for hours gets every event afterwards, in order per session, verified with the
 * standardwebhooks library, repeats under the same webhook-id; one failing for days pauses the
 * endpoint, which says why, and resuming it delivers the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { appendEvents } from '../../db/repositories/events';
import { getEndpointRow, insertEndpoint, updateEndpoint } from '../../db/repositories/webhooks';
import type { NewEvent } from '../../domain/events';
import { HOUR_MS } from '../../domain/limits';
import { webhookWorkflowId } from '../../domain/temporal-names';
import { newSigningSecret } from '../../infra/webhook-client';
import { startOrWakeWebhookRun } from '../../temporal/webhook-gateway';
import { webhookEndpointWorkflow } from '../../workflows/webhook';
import type { TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';
import { startWorkflowHarness, TEST_WEBHOOKS, type WorkflowHarness } from '../support/temporal';
import { until } from '../support/wait';
import { startReceiver, type Receiver } from '../support/webhook-receiver';

let harness: WorkflowHarness;
let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let receiver: Receiver;

beforeAll(async () => {
  harness = await startWorkflowHarness();
  ({ env, tdb } = harness);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await harness?.stop();
});

/** Events as the flows append them, stamped `at`: the time-skipping server's clock (never the wall clock). */
const opened = (sessionId: string, at: string): NewEvent => ({
  type: 'session.opened',
  sessionId,
  occurredAt: at,
  data: {
    sessionId,
    buyerId: `b-${sessionId}`,
    topic: 't',
    wantsHuman: true,
    botEngaged: false,
    policy: 'current',
    settingsSnapshot: { settingsVersion: 0, policy: 'current', buyerIdleMinutes: 20, agentReplyTimeoutMs: 1, queueTimeoutMs: 1 },
  },
});
/**
 * Skips virtual time in half-hour steps: one long env.sleep across many short timers and
 * activities was seen to stall on the Java test server, while short steps pass at once.
 */
async function skip(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= HOUR_MS / 2) await env.sleep(Math.min(left, HOUR_MS / 2));
}

const queued = (sessionId: string, position: number, at: string): NewEvent => ({
  type: 'session.queued',
  sessionId,
  occurredAt: at,
  data: { sessionId, topic: 't', position, queuedAt: at },
});
const nowIso = async () => new Date(await env.currentTimeMs()).toISOString();

describe('webhook delivery', () => {
  it('a receiver down for hours gets every event afterwards, in order per session; failing for days pauses the endpoint until resumed', async () => {
    const { shopId } = await seedShop(tdb.db);
    const secret = newSigningSecret();
    receiver.secret = secret;
    receiver.up = false;
    const endpoint = await insertEndpoint(tdb.db, {
      shopId,
      url: receiver.url,
      eventTypes: null,
      description: null,
      secretCiphertext: TEST_WEBHOOKS.box.seal(secret),
      cursor: 0,
      createdByKey: null,
    });
    // Two sessions' events interleaved, plus one about an agent.
    const t0 = await nowIso();
    await tdb.db.transaction((tx) => appendEvents(tx, shopId, [opened('a', t0), opened('b', t0), queued('a', 1, t0)]));
    await tdb.db.transaction((tx) =>
      appendEvents(tx, shopId, [
        queued('b', 2, t0),
        { type: 'agent.status_changed', occurredAt: t0, data: { agentId: 'x', from: 'offline', to: 'online' } },
      ]),
    );
    await env.client.workflow.start(webhookEndpointWorkflow, {
      workflowId: webhookWorkflowId(shopId, endpoint.id),
      taskQueue: harness.worker.taskQueue,
      args: [{ shopId, endpointId: endpoint.id, idleWaitMs: 0, idlePauseMs: 10 * 60_000 }],
    });

    // Down for 5 hours: retried with backoff, nothing delivered, the endpoint still active.
    await until(
      () => tdb.db('webhook_attempts').where({ endpoint_id: endpoint.id }),
      (r) => r.length > 0,
      'first attempts',
    );
    await skip(5 * HOUR_MS);
    const failing = await tdb.db('webhook_attempts').where({ endpoint_id: endpoint.id });
    expect(failing.every((a) => !a.ok && a.status_code === 503)).toBe(true);
    expect(new Set(failing.map((a) => a.webhook_id)).size).toBeLessThanOrEqual(5);
    const during = (await getEndpointRow(tdb.db, shopId, endpoint.id))!;
    expect(during).toMatchObject({ status: 'active' });
    expect(Number(during.cursor)).toBe(0);
    expect(during.failing_since).not.toBeNull();

    // Back up: within the capped backoff (1 h) everything arrives, verified, each session in order.
    receiver.up = true;
    await skip(HOUR_MS + 60_000);
    const got = await until(
      async () => receiver.received,
      (r) => new Set(r.map((x) => x.event.seq)).size === 5,
      'all five delivered',
    );
    expect(receiver.rejected).toBe(0);
    for (const s of ['a', 'b']) {
      const seqs = got.filter((r) => r.event.sessionId === s).map((r) => r.event.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x! - y!));
    }
    // A repeat carries the webhook-id of the first try: receivers drop repeats by it.
    const firstEvent = got.find((r) => r.event.seq === 1)!;
    const triesOfFirst = await tdb.db('webhook_attempts').where({ endpoint_id: endpoint.id, event_seq: 1 });
    expect(triesOfFirst.length).toBeGreaterThan(1);
    expect(new Set(triesOfFirst.map((a) => a.webhook_id))).toEqual(new Set([firstEvent.webhookId]));
    await until(
      () => getEndpointRow(tdb.db, shopId, endpoint.id),
      (e) => Number(e!.cursor) === 5 && e!.failing_since === null,
      'cursor at 5',
    );

    // Down for four days: the endpoint pauses and says why; resuming delivers what waited.
    receiver.up = false;
    const closedAt = await nowIso();
    await tdb.db.transaction((tx) =>
      appendEvents(tx, shopId, [
        {
          type: 'session.closed',
          sessionId: 'a',
          occurredAt: closedAt,
          data: {
            sessionId: 'a',
            reason: 'closed_by_agent',
            closedAt,
            agentId: null,
            settingsSnapshot: opened('a', closedAt).data as never,
            toOfflinePool: false,
          },
        },
      ]),
    );
    await skip(HOUR_MS / 2);
    await until(
      () => tdb.db('webhook_attempts').where({ endpoint_id: endpoint.id, event_seq: 6 }),
      (r) => r.length > 0,
      'event 6 tried',
    );
    await skip(4 * 24 * HOUR_MS);
    const paused = await until(
      () => getEndpointRow(tdb.db, shopId, endpoint.id),
      (e) => e!.status === 'paused',
      'paused',
    );
    expect(paused!.paused_reason).toMatch(/paused after failing for \d+ h: receiver answered 503/);
    receiver.up = true;
    await updateEndpoint(tdb.db, shopId, endpoint.id, { status: 'active' });
    await startOrWakeWebhookRun(env.client, harness.worker.taskQueue, shopId, endpoint.id);
    await until(
      async () => receiver.received.map((r) => r.event.seq),
      (seqs) => seqs.includes(6),
      'event 6 after resume',
    );
    expect((await env.client.workflow.getHandle(webhookWorkflowId(shopId, endpoint.id)).describe()).status.name).toBe('RUNNING');
  });
});
