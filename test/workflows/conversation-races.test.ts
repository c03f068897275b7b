/**
 * Interleavings the conversation machine must survive, on the time-skipping server with the real
 * activities on a real Postgres: a close arriving while routing is in flight (held at a gate so the
 * race is certain, not likely), an assignment committed just after a pooled run gave up its 24 h
 * wait (held the same way), and the pool labels of 转人工 and bot-only buyers as distribution
 * scopes see them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { closeSessionUpdate, requestHumanUpdate, type ConversationView } from '../../contracts/conversation';
import { createAgent } from '../../db/repositories/agents';
import { assignManually, distributeOfflineMessages } from '../../db/repositories/distribution';
import { getSession } from '../../db/repositories/sessions';
import { DEFAULT_DISTRIBUTION_SETTINGS, type DistributionScope } from '../../domain/distribution';
import { MINUTE_MS, OFFLINE_POOL_RUN_WAIT_MS } from '../../domain/limits';
import { OFFLINE_ASSIGNMENT_REASON } from '../../domain/assignment';
import type { StartSessionRequest } from '../../domain/session';
import { conversationWorkflowId } from '../../domain/temporal-names';
import { startConversation, queryConversation, reportMessage } from '../../temporal/session-gateway';
import { createWorker } from '../../worker/create-worker';
import { startDelivery, type Delivery } from '../../worker/delivery';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';
import { startTimeSkipping, TEST_WEBHOOKS, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { until } from '../support/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let delivery: Delivery;
const taskQueue = uniqueTaskQueue('races');

/** routeSession waits here while the gate is closed: a test decides when routing finishes. */
let gate: { entered: () => void; open: Promise<void> } | null = null;
/** releasePoolWait waits here after its commit while this is set: a test assigns in the window. */
let poolGate: { entered: () => void; open: Promise<void> } | null = null;

beforeAll(async () => {
  [env, tdb] = await Promise.all([startTimeSkipping(), createTestDatabase()]);
  // The production worker, with two of its activities held at gates the tests open.
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    db: tdb.db,
    webhooks: TEST_WEBHOOKS,
    workflowBundle: workflowBundle(),
    activities: (real) => ({
      ...real,
      routeSession: async (req: Parameters<typeof real.routeSession>[0]) => {
        const held = gate;
        if (held) {
          held.entered();
          await held.open;
        }
        return real.routeSession(req);
      },
      releasePoolWait: async (req: Parameters<typeof real.releasePoolWait>[0]) => {
        const released = await real.releasePoolWait(req);
        const held = poolGate;
        if (held) {
          held.entered();
          await held.open;
        }
        return released;
      },
    }),
  });
  running = worker.run();
  delivery = await startDelivery({ db: tdb.db, client: env.client, taskQueue });
});

afterAll(async () => {
  await delivery?.stop();
  worker?.shutdown();
  await running;
  await env?.teardown();
  await tdb?.drop();
});

let seq = 0;
function request(shopId: string, overrides: Partial<StartSessionRequest> = {}): StartSessionRequest {
  seq++;
  return {
    shopId,
    sessionId: `r${seq}`,
    buyerId: `b${seq}`,
    topic: 'presales',
    wantsHuman: false,
    botEngaged: false,
    policy: 'current',
    ...overrides,
  };
}

/** Settles within `ms` or fails naming what hung (a hung update otherwise shows as a test timeout). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms)),
  ]);
}

async function dryRunCounts(shopId: string, scope: DistributionScope, at: string): Promise<number> {
  const run = await distributeOfflineMessages(tdb.db, {
    shopId,
    trigger: 'manual',
    slot: null,
    runKey: `dry:${scope}:${at}`,
    at,
    settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, scope },
    settingsVersion: 1,
    dryRun: true,
  });
  return run.eligibleCount;
}

describe('close while routing', () => {
  it('routing that ends offline answers the close; the 转人工 buyer is pooled as human-requested and a later assignment serves it', async () => {
    const { shopId } = await seedShop(tdb.db);
    const req = request(shopId);
    await startConversation(env.client, taskQueue, req);
    const handle = env.client.workflow.getHandle(conversationWorkflowId(shopId, req.sessionId));

    let entered!: () => void;
    const inRouting = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    gate = { entered, open: new Promise<void>((r) => (release = r)) };
    try {
      // 转人工 starts routing (held at the gate: nobody is online, so it will end offline)…
      const asked = await handle.startUpdate(requestHumanUpdate, { waitForStage: 'ACCEPTED' });
      await within(inRouting, 20_000, 'routing');
      // …and the buyer closes while it is in flight.
      const closing = await handle.startUpdate(closeSessionUpdate, { args: [{ by: 'buyer' }], waitForStage: 'ACCEPTED' });
      release();
      const closed = await within<ConversationView>(closing.result(), 20_000, 'the close update');
      expect(closed.status).toBe('offline');
      expect((await within<ConversationView>(asked.result(), 20_000, 'the 转人工 update')).status).toBe('offline');
    } finally {
      gate = null;
      release?.();
    }

    expect(await getSession(tdb.db, shopId, req.sessionId)).toMatchObject({ status: 'offline', wantsHuman: true });
    const pooled = await tdb.db('offline_messages').where({ shop_id: shopId, session_id: req.sessionId }).first();
    expect(pooled).toMatchObject({ origin: 'no_agent_online', wants_human: true, status: 'pending' });
    const at = new Date(Date.parse(pooled.created_at) + MINUTE_MS).toISOString();
    await createAgent(tdb.db, shopId, { name: 'Dry', capacity: 5, status: 'online' });
    expect(await dryRunCounts(shopId, 'human_requested', at)).toBe(1);

    // The close was answered by going offline: it does not end the session's next life.
    const agent = await createAgent(tdb.db, shopId, { name: 'Later', capacity: 5, status: 'offline' });
    const result = await assignManually(tdb.db, { shopId, messageIds: [pooled.id], agentId: agent.id, operator: 'test', at });
    expect(result.assigned).toEqual([pooled.id]);
    await until(
      () => queryConversation(env.client, shopId, req.sessionId),
      (v) => v.status === 'active',
      'the pooled session served by its agent',
    );
    await env.sleep(MINUTE_MS);
    const live = await queryConversation(env.client, shopId, req.sessionId);
    expect(live).toMatchObject({ status: 'active', agentId: agent.id, closeReason: null });
  });
});

describe('pool wait expiring as an assignment commits', () => {
  it('an assignment committed after the run released its wait, while it is still ending, is served by that run: once, no new run', async () => {
    const { shopId } = await seedShop(tdb.db);
    const req = request(shopId, { wantsHuman: true });
    const started = await startConversation(env.client, taskQueue, req);
    expect(started.opened?.status).toBe('offline');
    const handle = env.client.workflow.getHandle(conversationWorkflowId(shopId, req.sessionId));
    const runId = started.runId;
    const pooled = await tdb.db('offline_messages').where({ shop_id: shopId, session_id: req.sessionId }).first();
    const agent = await createAgent(tdb.db, shopId, { name: 'Just in time', capacity: 5, status: 'offline' });

    let entered!: () => void;
    const released = new Promise<void>((r) => (entered = r));
    let open!: () => void;
    poolGate = { entered, open: new Promise<void>((r) => (open = r)) };
    try {
      // The 24 h wait ends; the run has told Postgres it stopped waiting, and is held before ending…
      // (Only a second past it: time cannot skip while the held activity runs, so the rest passes in real time.)
      await env.sleep(OFFLINE_POOL_RUN_WAIT_MS + 1_000);
      await within(released, 20_000, 'the pool wait release');
      expect(await tdb.db('sessions').where({ shop_id: shopId, session_id: req.sessionId }).first('awaiting_run', 'pool_run_id')).toEqual({
        awaiting_run: false,
        pool_run_id: null,
      });
      // …when the merchant assigns the message: its outbox row says the run ended, so it goes out as a signal-with-start.
      const at = new Date(Date.parse(pooled.created_at) + OFFLINE_POOL_RUN_WAIT_MS - MINUTE_MS).toISOString();
      expect(
        (await assignManually(tdb.db, { shopId, messageIds: [pooled.id], agentId: agent.id, operator: 'merchant', at })).assigned,
      ).toEqual([pooled.id]);
      await until(
        () => tdb.db('outbox').where({ shop_id: shopId }).whereNull('delivered_at').count({ n: '*' }),
        (r) => Number(r[0].n) === 0,
        'the assignment delivered',
      );
    } finally {
      poolGate = null;
      open?.();
    }
    const live = await until(
      () => queryConversation(env.client, shopId, req.sessionId),
      (v) => v.status === 'active',
      'the session served by its agent',
    );
    expect(live).toMatchObject({
      agentId: agent.id,
      assignments: [expect.objectContaining({ agentId: agent.id, reason: OFFLINE_ASSIGNMENT_REASON })],
    });
    expect((await handle.describe()).runId).toBe(runId);
    expect(await getSession(tdb.db, shopId, req.sessionId)).toMatchObject({ status: 'active', agentId: agent.id });
  });
});

describe('bot-only buyers', () => {
  it('a session where only the bot talked enters the pool as bot_only, not human-requested: scope all counts it, human_requested does not', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'Online', capacity: 5, status: 'online' });
    const req = request(shopId, { botEngaged: true });
    await startConversation(env.client, taskQueue, req);
    await reportMessage(env.client, shopId, req.sessionId, { from: 'buyer', messageId: 'q1' });
    await reportMessage(env.client, shopId, req.sessionId, { from: 'agent', messageId: 'bot-a1' });
    // The buyer goes quiet: the shop's 20 min buyer-idle rule closes the session.
    await env.sleep(21 * MINUTE_MS);
    const row = await until(
      () => getSession(tdb.db, shopId, req.sessionId),
      (s) => s?.status === 'closed',
      'the idle close',
    );
    expect(row).toMatchObject({ closeReason: 'buyer_idle_timeout', wantsHuman: false, agentId: null });
    const pooled = await tdb.db('offline_messages').where({ shop_id: shopId, session_id: req.sessionId }).first();
    expect(pooled).toMatchObject({ origin: 'bot_only', wants_human: false, bot_engaged: true, status: 'pending' });

    const at = new Date(Date.parse(pooled.created_at) + MINUTE_MS).toISOString();
    expect(await dryRunCounts(shopId, 'all', at)).toBe(1);
    expect(await dryRunCounts(shopId, 'human_requested', at)).toBe(0);
  });

  it('a bot-engaged session that had a human agent, and one without a bot, do not enter the pool when they close', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'Seat', capacity: 5, status: 'online' });
    const served = request(shopId, { botEngaged: true, wantsHuman: true });
    const plain = request(shopId);
    await startConversation(env.client, taskQueue, served);
    await startConversation(env.client, taskQueue, plain);
    expect((await queryConversation(env.client, shopId, served.sessionId)).status).toBe('active');
    await reportMessage(env.client, shopId, served.sessionId, { from: 'agent', messageId: 'h1' });
    await reportMessage(env.client, shopId, plain.sessionId, { from: 'agent', messageId: 'p1' });
    await env.sleep(21 * MINUTE_MS);
    for (const id of [served.sessionId, plain.sessionId]) {
      await until(
        () => getSession(tdb.db, shopId, id),
        (s) => s?.status === 'closed',
        `${id} closed`,
      );
    }
    expect(await tdb.db('offline_messages').where({ shop_id: shopId })).toEqual([]);
  });
});
