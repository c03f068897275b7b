/**
 * Handoffs (docs/rules.md §9) on the time-skipping server with real activities and Postgres: a
 * transfer moves the run to its new agent and keeps the run's timers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createAgent, updateAgent } from '../../db/repositories/agents';
import { assignManually } from '../../db/repositories/distribution';
import { saveSessionSettings } from '../../db/repositories/session-settings';
import { queryShop } from '../../temporal/shop-gateway';
import { agentLeftSignal, agentReturnedSignal, SHOP_WORKFLOW_TYPE } from '../../contracts/shop';
import { shopWorkflowId, SHOP_ID_ATTR } from '../../domain/temporal-names';
import type { SignalDefinition } from '@temporalio/workflow';
import { transferSession } from '../../db/repositories/handoffs';
import { listSessionClosures } from '../../db/repositories/sessions';
import { AGENT_REPLY_TIMEOUT_MS, HOUR_MS, MINUTE_MS } from '../../domain/limits';
import { QUEUE_DRAIN_REASON, TRANSFER_REASON } from '../../domain/assignment';
import { conversationWorkflowId } from '../../domain/temporal-names';
import type { StartSessionRequest } from '../../domain/session';
import type { ConversationView } from '../../contracts/conversation';
import { closeConversation, queryConversation, reportMessage, startConversation } from '../../temporal/session-gateway';
import type { TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';
import { resultOrExplain, type RunningWorker, type WorkflowHarness, startWorkflowHarness } from '../support/temporal';
import { until } from '../support/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: RunningWorker;
let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness();
  ({ env, tdb, worker } = harness);
});
afterAll(async () => harness?.stop());

const req = (shopId: string, sessionId: string): StartSessionRequest => ({
  shopId,
  sessionId,
  buyerId: `buyer-${sessionId}`,
  topic: 'presales',
  wantsHuman: true,
  botEngaged: false,
  policy: 'current',
});
const view = (shopId: string, sessionId: string): Promise<ConversationView> => queryConversation(env.client, shopId, sessionId);
const ms = (iso: string | null) => Date.parse(iso!);

describe('transfer keeps the timers', () => {
  it('a transfer at 5 h 59 m still closes at 6 h from the buyer’s first unanswered message, with the new agent', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 't1'));
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    expect((await view(shopId, 't1')).agentId).toBe(a.id);

    await reportMessage(env.client, shopId, 't1', { from: 'buyer', messageId: 'm1' });
    // The buyer has waited for an agent since the assignment: that is the first unanswered moment.
    const before = await until(
      () => view(shopId, 't1'),
      (v) => v.messageCount === 1,
      'the buyer message',
    );
    const deadline = before.nextDeadline!;
    expect(deadline.reason).toBe('agent_reply_timeout');
    const asked = ms(deadline.at) - AGENT_REPLY_TIMEOUT_MS;
    expect(asked).toBeLessThanOrEqual(ms(before.lastBuyerMessageAt));
    await env.sleep(AGENT_REPLY_TIMEOUT_MS - MINUTE_MS);
    const at = new Date(await env.currentTimeMs()).toISOString();
    await transferSession(tdb.db, { shopId, sessionId: 't1', target: { toAgentId: b.id }, note: null, operator: 'test', at });

    const moved = await until(
      () => view(shopId, 't1'),
      (v) => v.agentId === b.id,
      'the run hears the transfer',
    );
    expect(moved.status).toBe('active');
    expect(moved.turn).toBe('agent');
    expect(moved.assignments.at(-1)).toMatchObject({ agentId: b.id, reason: TRANSFER_REASON, operator: 'test' });
    // Same deadline as before the transfer: from the buyer's message, not from the transfer.
    expect(moved.nextDeadline).toEqual(deadline);

    const final = await resultOrExplain<ConversationView>(env, conversationWorkflowId(shopId, 't1'));
    expect(final.closeReason).toBe('agent_reply_timeout');
    expect(ms(final.closedAt) - asked).toBeGreaterThanOrEqual(AGENT_REPLY_TIMEOUT_MS);
    expect(ms(final.closedAt) - asked).toBeLessThan(AGENT_REPLY_TIMEOUT_MS + MINUTE_MS);
    // The close freed the new holder's seat.
    expect((await listSessionClosures(tdb.db, shopId, 't1')).map((c) => c.agentId)).toEqual([b.id]);
    const loads = await tdb.db('agents').where({ shop_id: shopId }).orderBy('name').pluck('active_sessions');
    expect(loads).toEqual([0, 0]);
  });

  it('after the new agent replies, the buyer-idle timer runs as usual', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 't2'));
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    await env.sleep(HOUR_MS);
    await transferSession(tdb.db, {
      shopId,
      sessionId: 't2',
      target: { toAgentId: b.id },
      note: '请跟进',
      operator: 'test',
      at: new Date(await env.currentTimeMs()).toISOString(),
    });
    await until(
      () => view(shopId, 't2'),
      (v) => v.agentId === b.id,
      'the run hears the transfer',
    );
    await reportMessage(env.client, shopId, 't2', { from: 'agent', messageId: 'r1', agentId: b.id });
    const replied = await until(
      () => view(shopId, 't2'),
      (v) => v.turn === 'buyer',
      'the reply',
    );
    expect(replied.nextDeadline!.reason).toBe('buyer_idle_timeout');
    const final = await resultOrExplain<ConversationView>(env, conversationWorkflowId(shopId, 't2'));
    expect(final.closeReason).toBe('buyer_idle_timeout');
    expect((await listSessionClosures(tdb.db, shopId, 't2')).map((c) => c.agentId)).toEqual([b.id]);
  });
});

const settle = async (shopId: string, what: string, ok: (leftAgents: string[]) => boolean) =>
  until(async () => ((await queryShop(env.client, shopId).catch(() => null))?.leftAgents ?? []).map((a) => a.agentId), ok, what);
const holders = async (shopId: string) =>
  Object.fromEntries(
    (await tdb.db('sessions').where({ shop_id: shopId }).orderBy('session_id').select('session_id', 'agent_id', 'status')).map((r) => [
      r.session_id,
      r.agent_id ?? r.status,
    ]),
  );
/** Signals the shop run (started if needed), as the outbox relay does. */
async function signalShop<T>(shopId: string, signal: SignalDefinition<[T]>, arg: T): Promise<void> {
  await env.client.workflow.signalWithStart(SHOP_WORKFLOW_TYPE, {
    workflowId: shopWorkflowId(shopId),
    taskQueue: worker.taskQueue,
    args: [{ shopId }],
    signal,
    signalArgs: [arg],
    typedSearchAttributes: [{ key: SHOP_ID_ATTR, value: shopId }],
  });
}
const nowIso = async () => new Date(await env.currentTimeMs()).toISOString();

describe('an agent who leaves (default: re-route after 5 minutes of grace)', () => {
  it('back online at 4 m 59 s: the agent keeps its sessions, nothing is re-routed', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    for (const id of ['k1', 'k2']) await startConversation(env.client, worker.taskQueue, req(shopId, id));
    await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });

    await updateAgent(tdb.db, shopId, a.id, { status: 'offline' }, await nowIso());
    await settle(shopId, 'the shop run starts the grace timer', (left) => left.includes(a.id));
    await env.sleep(5 * MINUTE_MS - 1_000);
    await updateAgent(tdb.db, shopId, a.id, { status: 'online' }, await nowIso());
    await settle(shopId, 'the return cancels it', (left) => left.length === 0);
    await env.sleep(10 * MINUTE_MS);

    expect(await holders(shopId)).toEqual({ k1: a.id, k2: a.id });
    expect(await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' })).toHaveLength(0);
  });

  it('still away at 5 m 01 s: its sessions go to a colleague with a free seat, then the queue, each with session.rerouted; the runs follow', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    for (const id of ['g1', 'g2', 'g3']) await startConversation(env.client, worker.taskQueue, req(shopId, id));
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 2, status: 'online' });
    await reportMessage(env.client, shopId, 'g1', { from: 'buyer', messageId: 'q1' });
    const deadlineBefore = (
      await until(
        () => view(shopId, 'g1'),
        (v) => v.messageCount === 1,
        'g1 message',
      )
    ).nextDeadline;

    await updateAgent(tdb.db, shopId, a.id, { status: 'offline' }, await nowIso());
    await settle(shopId, 'the shop run starts the grace timer', (left) => left.includes(a.id));
    await env.sleep(5 * MINUTE_MS + 1_000);
    await until(
      () => tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' }),
      (rows) => rows.length === 3,
      'three re-routes',
    );

    // Oldest first: two fill B's seats, the third waits in the queue (B serves the topic, so not the pool).
    expect(await holders(shopId)).toEqual({ g1: b.id, g2: b.id, g3: 'queued' });
    const events = await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' }).orderBy('seq').select('session_id', 'data');
    expect(events.map((e) => [e.session_id, e.data.reason, e.data.outcome, e.data.fromAgentId])).toEqual([
      ['g1', 'agent_left', 'assigned', a.id],
      ['g2', 'agent_left', 'assigned', a.id],
      ['g3', 'agent_left', 'queued', a.id],
    ]);
    expect((await tdb.db('agents').where({ id: a.id }).first()).active_sessions).toBe(0);
    // The runs follow; a re-route keeps the agent-reply deadline, like a transfer.
    const g1 = await until(
      () => view(shopId, 'g1'),
      (v) => v.agentId === b.id,
      'g1 run follows',
    );
    expect(g1.nextDeadline).toEqual(deadlineBefore);
    const g3 = await until(
      () => view(shopId, 'g3'),
      (v) => v.status === 'queued',
      'g3 run queued',
    );
    expect(g3.nextDeadline!.reason).toBe('queue_timeout');

    // Coming back later changes nothing: the sessions stay where they went.
    await updateAgent(tdb.db, shopId, a.id, { status: 'online' }, await nowIso());
    expect((await holders(shopId)).g1).toBe(b.id);
  });

  it('nobody else online: the sessions wait in the offline pool (origin agent_left) and their runs with them', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'p1'));
    await updateAgent(tdb.db, shopId, a.id, { status: 'offline' }, await nowIso());
    await settle(shopId, 'grace timer', (left) => left.includes(a.id));
    await env.sleep(5 * MINUTE_MS + 1_000);
    const pooled = await until(
      () => tdb.db('offline_messages').where({ shop_id: shopId, session_id: 'p1' }).first(),
      (m) => m?.status === 'pending',
      'p1 in the pool',
    );
    expect(pooled.origin).toBe('agent_left');
    expect(
      (
        await until(
          () => view(shopId, 'p1'),
          (v) => v.status === 'offline',
          'p1 run waits in the pool',
        )
      ).agentId,
    ).toBeNull();
  });

  it('a return that reaches the shop run after a later leave cancels only the leave before it', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    const t = await env.currentTimeMs();
    const iso = (ms: number) => new Date(t + ms).toISOString();
    // Left at t, back at t+1 min, left again at t+2 min; the return's signal arrives last.
    await signalShop(shopId, agentLeftSignal, { agentId: a.id, since: iso(0), graceMs: 5 * MINUTE_MS });
    await signalShop(shopId, agentLeftSignal, { agentId: a.id, since: iso(2 * MINUTE_MS), graceMs: 5 * MINUTE_MS });
    await signalShop(shopId, agentReturnedSignal, { agentId: a.id, at: iso(MINUTE_MS) });
    const left = await until(
      async () => (await queryShop(env.client, shopId).catch(() => null))?.leftAgents ?? [],
      (l) => l.length === 1 && l[0].since === iso(2 * MINUTE_MS),
      'the later leave still counts',
    );
    expect(left[0].dueAt).toBe(t + 7 * MINUTE_MS);
  });

  it('小休 keeps its sessions past the grace: no timer starts, nothing is re-routed', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'br1'));
    await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    await updateAgent(tdb.db, shopId, a.id, { status: 'suspended' }, await nowIso());
    expect(await tdb.db('outbox').where({ shop_id: shopId, kind: 'agent_left' })).toHaveLength(0);
    await env.sleep(30 * MINUTE_MS);
    expect(await holders(shopId)).toEqual({ br1: a.id });
    expect((await view(shopId, 'br1')).agentId).toBe(a.id);
    expect(await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' })).toHaveLength(0);
  });

  it('keep: the shop keeps an offline agent’s sessions with it', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 20, agentLeft: { mode: 'keep', graceMinutes: 5 } }, 'owner');
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'kp1'));
    await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    await updateAgent(tdb.db, shopId, a.id, { status: 'offline' }, await nowIso());
    expect(await tdb.db('outbox').where({ shop_id: shopId, kind: 'agent_left' })).toHaveLength(0);
    await env.sleep(30 * MINUTE_MS);
    expect(await holders(shopId)).toEqual({ kp1: a.id });
  });
});

describe('a buyer nobody answers (first reply, off by default)', () => {
  it('re-routes an unanswered assignment after N minutes, at most twice; an answer stops it', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 20, firstReplyMinutes: 3 }, 'owner');
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'f1'));
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    expect((await view(shopId, 'f1')).agentId).toBe(a.id);

    await env.sleep(3 * MINUTE_MS + 1_000);
    await until(
      () => view(shopId, 'f1'),
      (v) => v.agentId === b.id,
      'first re-route to B',
    );
    await env.sleep(3 * MINUTE_MS + 1_000);
    // Never back to the agent it just left; A is the only other one.
    await until(
      () => view(shopId, 'f1'),
      (v) => v.agentId === a.id,
      'second re-route to A',
    );
    await env.sleep(10 * MINUTE_MS);
    const v = await view(shopId, 'f1');
    expect(v.agentId).toBe(a.id);
    const events = await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' }).orderBy('seq').select('data');
    expect(events.map((e) => [e.data.reason, e.data.fromAgentId, e.data.toAgentId])).toEqual([
      ['no_first_reply', a.id, b.id],
      ['no_first_reply', b.id, a.id],
    ]);
    expect(await tdb.db('agents').where({ shop_id: shopId }).orderBy('name').pluck('active_sessions')).toEqual([1, 0]);

    // Another session answered in time stays.
    await startConversation(env.client, worker.taskQueue, req(shopId, 'f2'));
    const holder = (await view(shopId, 'f2')).agentId!;
    await env.sleep(MINUTE_MS);
    await reportMessage(env.client, shopId, 'f2', { from: 'agent', messageId: 'ok' });
    await until(
      () => view(shopId, 'f2'),
      (x) => x.turn === 'buyer',
      'answered',
    );
    await env.sleep(5 * MINUTE_MS);
    expect((await view(shopId, 'f2')).agentId).toBe(holder);
  });

  it('nobody else online: the unanswered session stays with its agent (the pool would hand it straight back)', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 20, firstReplyMinutes: 2 }, 'owner');
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'alone1'));
    await env.sleep(2 * MINUTE_MS + 1_000);
    const v = await until(
      () => view(shopId, 'alone1'),
      (x) => x.firstReplyAt === null,
      'the first-reply check ran',
    );
    expect([v.status, v.agentId]).toEqual(['active', a.id]);
    expect(await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' })).toHaveLength(0);
    expect(await tdb.db('offline_messages').where({ shop_id: shopId })).toHaveLength(0);
  });

  it('a session assigned from the queue is re-routed when its agent does not answer', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 20, firstReplyMinutes: 3 }, 'owner');
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 1, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'qa1'));
    await reportMessage(env.client, shopId, 'qa1', { from: 'agent', messageId: 'hi', agentId: a.id });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'qa2'));
    expect((await view(shopId, 'qa2')).status).toBe('queued');
    // Created offline and brought online without a drain of its own, so the queue stays A's to serve.
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 1, status: 'online' });
    await closeConversation(env.client, shopId, 'qa1', { by: 'buyer' });
    const served = await until(
      () => view(shopId, 'qa2'),
      (v) => v.agentId === a.id,
      'the queue gives A’s seat to qa2',
    );
    expect(served.assignments.at(-1)!.reason).toBe(QUEUE_DRAIN_REASON);
    expect(served.firstReplyAt).not.toBeNull();

    await env.sleep(3 * MINUTE_MS + 1_000);
    await until(
      () => view(shopId, 'qa2'),
      (v) => v.agentId === b.id,
      'qa2 re-routed to B',
    );
    const events = await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' }).select('session_id', 'data');
    expect(events.map((e) => [e.session_id, e.data.reason, e.data.fromAgentId, e.data.toAgentId])).toEqual([
      ['qa2', 'no_first_reply', a.id, b.id],
    ]);
  });

  it('a transfer starts the first-reply wait again for the new agent', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 20, firstReplyMinutes: 3 }, 'owner');
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'ta1'));
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    await env.sleep(2 * MINUTE_MS);
    const at = await nowIso();
    await transferSession(tdb.db, { shopId, sessionId: 'ta1', target: { toAgentId: b.id }, note: null, operator: 'test', at });
    const moved = await until(
      () => view(shopId, 'ta1'),
      (v) => v.agentId === b.id,
      'the run hears the transfer',
    );
    // Counted from the transfer, not from the first assignment.
    expect(ms(moved.firstReplyAt ?? null) - ms(at)).toBeGreaterThanOrEqual(3 * MINUTE_MS);
    expect(ms(moved.firstReplyAt ?? null) - ms(at)).toBeLessThan(4 * MINUTE_MS);
    // Past A's original 3 minutes, B still has its own.
    await env.sleep(2 * MINUTE_MS);
    expect((await view(shopId, 'ta1')).agentId).toBe(b.id);
    await env.sleep(MINUTE_MS + 1_000);
    await until(
      () => view(shopId, 'ta1'),
      (v) => v.agentId === a.id,
      're-routed away from B',
    );
    const events = await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' }).select('data');
    expect(events.map((e) => [e.data.reason, e.data.fromAgentId, e.data.toAgentId])).toEqual([['no_first_reply', b.id, a.id]]);
  });

  it('sessions assigned from the offline pool are exempt', async () => {
    const { shopId } = await seedShop(tdb.db);
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 60, firstReplyMinutes: 2 }, 'owner');
    await startConversation(env.client, worker.taskQueue, req(shopId, 'pool1'));
    await until(
      () => view(shopId, 'pool1'),
      (v) => v.status === 'offline',
      'pooled (nobody online)',
    );
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    const [id] = await tdb.db('offline_messages').where({ shop_id: shopId }).pluck('id');
    await assignManually(tdb.db, { shopId, messageIds: [id], agentId: a.id, operator: 'owner', at: await nowIso() });
    await until(
      () => view(shopId, 'pool1'),
      (v) => v.agentId === a.id,
      'assigned from the pool',
    );
    await env.sleep(10 * MINUTE_MS);
    expect((await view(shopId, 'pool1')).agentId).toBe(a.id);
    expect(await tdb.db('events').where({ shop_id: shopId, type: 'session.rerouted' })).toHaveLength(0);
  });
});
