/**
 * Agents, routing groups and live assignment (docs/rules.md §2) on the time-skipping server with real
 * Postgres: capacity under concurrency, FIFO queue drain, recent contact, offline messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createAgent, createGroup, updateAgent } from '../../db/repositories/agents';
import { getSession } from '../../db/repositories/sessions';
import { HOUR_MS } from '../../domain/limits';
import type { StartSessionRequest } from '../../domain/session';
import { closeConversation, leaveQueue, queryConversation, startConversation } from '../../temporal/session-gateway';
import type { ConversationView } from '../../contracts/conversation';
import type { TestDatabase } from '../support/database';
import { until } from '../support/wait';
import { seedShop } from '../support/seed';
import { type RunningWorker, type WorkflowHarness, startWorkflowHarness } from '../support/temporal';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: RunningWorker;
let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness();
  ({ env, tdb, worker } = harness);
});
afterAll(async () => harness?.stop());

/** The time-skipping server's clock, for every change the test makes itself (the runs stamp theirs with it). */
const nowMs = () => env.currentTimeMs();
const nowIso = async () => new Date(await nowMs()).toISOString();

const req = (shopId: string, sessionId: string, extra: Partial<StartSessionRequest> = {}): StartSessionRequest => ({
  shopId,
  sessionId,
  buyerId: `buyer-${sessionId}`,
  topic: 'presales',
  wantsHuman: true,
  botEngaged: false,
  policy: 'current',
  ...extra,
});

const statusOf = async (shopId: string, sessionId: string) => (await getSession(tdb.db, shopId, sessionId))?.status;
const view = (shopId: string, sessionId: string): Promise<ConversationView> => queryConversation(env.client, shopId, sessionId);
const loads = async (shopId: string) =>
  (await tdb.db('agents').where({ shop_id: shopId }).orderBy('id').select('id', 'active_sessions', 'capacity')) as {
    id: string;
    active_sessions: number;
    capacity: number;
  }[];

describe('capacity under concurrency and the FIFO queue', () => {
  it('50 sessions at once, 5 online agents × 3 seats: 15 assigned, 35 queued, none over; closing drains in order', async () => {
    const { shopId } = await seedShop(tdb.db);
    for (let i = 0; i < 5; i++) await createAgent(tdb.db, shopId, { name: `A${i}`, capacity: 3, status: 'online', id: `${shopId}-a${i}` });
    const ids = Array.from({ length: 50 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => startConversation(env.client, worker.taskQueue, req(shopId, id))));

    const rows = await until(
      () =>
        tdb
          .db('sessions')
          .where({ shop_id: shopId })
          .whereIn('status', ['active', 'queued'])
          .select('session_id', 'status', 'agent_id', 'queued_at'),
      (r) => r.length === 50,
      'all 50 routed',
    );
    expect(rows.filter((r) => r.status === 'active')).toHaveLength(15);
    expect(rows.filter((r) => r.status === 'queued')).toHaveLength(35);
    for (const agent of await loads(shopId)) expect(agent.active_sessions).toBe(3);
    const perAgent = new Map<string, number>();
    for (const r of rows.filter((x) => x.status === 'active')) perAgent.set(r.agent_id, (perAgent.get(r.agent_id) ?? 0) + 1);
    expect([...perAgent.values()]).toEqual([3, 3, 3, 3, 3]);

    // The runs agree with Postgres, and each assignment is an event with operator and reason.
    const active = rows.filter((r) => r.status === 'active');
    const v = await view(shopId, active[0].session_id);
    expect(v).toMatchObject({ status: 'active', agentId: active[0].agent_id });
    expect(v.assignments[0]).toMatchObject({ agentId: active[0].agent_id, operator: '系统自动分配', reason: 'routing' });
    expect((await view(shopId, rows.find((r) => r.status === 'queued')!.session_id)).status).toBe('queued');

    const queueOrder = rows
      .filter((r) => r.status === 'queued')
      .sort((a, b) => a.queued_at.getTime() - b.queued_at.getTime() || a.session_id.localeCompare(b.session_id))
      .map((r) => r.session_id);

    // Close the live sessions one by one: each freed seat goes to the oldest queued session.
    for (let k = 0; k < 10; k++) {
      const victim = (await tdb.db('sessions').where({ shop_id: shopId, status: 'active' }).orderBy('assigned_at').first('session_id'))
        .session_id;
      await closeConversation(env.client, shopId, victim, { by: 'agent' });
      const next = queueOrder[k];
      await until(
        () => view(shopId, next),
        (x) => x.status === 'active',
        `${next} assigned from the queue`,
      );
      expect((await view(shopId, next)).assignments.at(-1)).toMatchObject({ reason: 'queue', operator: '系统自动分配' });
      for (const agent of await loads(shopId)) expect(agent.active_sessions).toBeLessThanOrEqual(agent.capacity);
    }
    const stillQueued = await tdb.db('sessions').where({ shop_id: shopId, status: 'queued' }).pluck('session_id');
    expect(stillQueued.sort()).toEqual(queueOrder.slice(10).sort());
    expect(await tdb.db('outbox').where({ shop_id: shopId }).whereNull('delivered_at')).toEqual([]);
  });

  it('an agent coming online or raising capacity takes the oldest queued sessions at once', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 1, status: 'online' });
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 2, status: 'offline' });
    for (const id of ['q1', 'q2', 'q3', 'q4']) {
      await startConversation(env.client, worker.taskQueue, req(shopId, id));
      await until(
        () => statusOf(shopId, id),
        (s) => s === 'active' || s === 'queued',
        `${id} routed`,
      );
    }
    expect(await statusOf(shopId, 'q1')).toBe('active');

    const online = await updateAgent(tdb.db, shopId, b.id, { status: 'online' }, await nowIso());
    expect(online!.drained.map((x) => x.agentId)).toEqual([b.id, b.id]);
    await until(
      () => view(shopId, 'q2'),
      (x) => x.agentId === b.id,
      'q2 to B',
    );
    await until(
      () => view(shopId, 'q3'),
      (x) => x.agentId === b.id,
      'q3 to B',
    );
    expect(await statusOf(shopId, 'q4')).toBe('queued');

    const raised = await updateAgent(tdb.db, shopId, a.id, { capacity: 2 }, await nowIso());
    expect(raised!.drained).toHaveLength(1);
    await until(
      () => view(shopId, 'q4'),
      (x) => x.agentId === a.id,
      'q4 to A',
    );
  });

  it('a buyer leaving the queue closes the session (left_queue) and leaves an offline message', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'Full', capacity: 0, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'leaver'));
    await until(
      () => statusOf(shopId, 'leaver'),
      (s) => s === 'queued',
      'queued',
    );
    const after = await leaveQueue(env.client, shopId, 'leaver');
    expect(after).toMatchObject({ status: 'closed', closeReason: 'left_queue' });
    const pool = await tdb.db('offline_messages').where({ shop_id: shopId, session_id: 'leaver' });
    expect(pool).toHaveLength(1);
    expect(pool[0].origin).toBe('left_queue');
  });
});

describe('choosing the agent', () => {
  it('least-loaded online agent of a group whose scope covers the topic; ties go to the one idle longest', async () => {
    const { shopId } = await seedShop(tdb.db);
    const pre1 = await createAgent(tdb.db, shopId, { name: 'pre1', capacity: 5, status: 'online' });
    const pre2 = await createAgent(tdb.db, shopId, { name: 'pre2', capacity: 5, status: 'online' });
    const after = await createAgent(tdb.db, shopId, { name: 'after', capacity: 5, status: 'online' });
    const pause = await createAgent(tdb.db, shopId, { name: 'pause', capacity: 5, status: 'suspended' });
    await createGroup(tdb.db, shopId, { name: 'Pre-sales', scopes: ['presales'], agentIds: [pre1.id, pre2.id, pause.id] });
    await createGroup(tdb.db, shopId, { name: 'After-sales', scopes: ['aftersales'], agentIds: [after.id] });
    const t = await nowMs();
    await tdb
      .db('agents')
      .where({ id: pre1.id })
      .update({ last_assigned_at: new Date(t - HOUR_MS) });
    await tdb
      .db('agents')
      .where({ id: pre2.id })
      .update({ last_assigned_at: new Date(t - 2 * HOUR_MS) });

    const assigned: string[] = [];
    for (const id of ['r1', 'r2', 'r3', 'r4']) {
      await startConversation(env.client, worker.taskQueue, req(shopId, id));
      assigned.push(
        (
          await until(
            () => view(shopId, id),
            (x) => x.status === 'active',
            id,
          )
        ).agentId!,
      );
    }
    // Equal load: pre2 idle longest first, then they alternate by load; never the suspended one.
    expect(assigned).toEqual([pre2.id, pre1.id, pre2.id, pre1.id]);

    await startConversation(env.client, worker.taskQueue, req(shopId, 'r5', { topic: 'aftersales' }));
    expect(
      (
        await until(
          () => view(shopId, 'r5'),
          (x) => x.status === 'active',
          'r5',
        )
      ).agentId,
    ).toBe(after.id);
  });

  it('recent contact: a returning buyer goes back to the agent who served them, even while suspended', async () => {
    const { shopId } = await seedShop(tdb.db);
    const first = await createAgent(tdb.db, shopId, { name: 'first', capacity: 5, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'visit1', { buyerId: 'returning' }));
    await until(
      () => view(shopId, 'visit1'),
      (x) => x.agentId === first.id,
      'first visit',
    );
    await closeConversation(env.client, shopId, 'visit1', { by: 'buyer' });

    const other = await createAgent(tdb.db, shopId, { name: 'other', capacity: 5, status: 'online' });
    await updateAgent(tdb.db, shopId, first.id, { status: 'suspended' }, await nowIso());
    await startConversation(env.client, worker.taskQueue, req(shopId, 'visit2', { buyerId: 'returning' }));
    const back = await until(
      () => view(shopId, 'visit2'),
      (x) => x.status === 'active',
      'second visit',
    );
    expect(back.agentId).toBe(first.id);
    expect(back.assignments[0].reason).toBe('recent_contact');

    // A buyer without history goes to an online agent, never to the suspended one.
    await startConversation(env.client, worker.taskQueue, req(shopId, 'stranger', { buyerId: 'new-buyer' }));
    expect(
      (
        await until(
          () => view(shopId, 'stranger'),
          (x) => x.status === 'active',
          'stranger',
        )
      ).agentId,
    ).toBe(other.id);
  });

  it('a buyer arriving while every agent is offline becomes an offline message', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'away', capacity: 5, status: 'offline' });
    await createAgent(tdb.db, shopId, { name: 'break', capacity: 5, status: 'suspended' });
    const handle = env.client.workflow.getHandle((await startConversation(env.client, worker.taskQueue, req(shopId, 'late'))).workflowId);
    const final = await handle.result();
    expect(final.status).toBe('offline');
    expect(await statusOf(shopId, 'late')).toBe('offline');
    const pool = await tdb.db('offline_messages').where({ shop_id: shopId });
    expect(pool).toHaveLength(1);
    expect(pool[0]).toMatchObject({ session_id: 'late', origin: 'no_agent_online', status: 'pending', wants_human: true });
  });

  it('a bot session routes when the buyer asks for a human later (转人工)', async () => {
    const { shopId } = await seedShop(tdb.db);
    const agent = await createAgent(tdb.db, shopId, { name: 'A', capacity: 1, status: 'online' });
    await startConversation(env.client, worker.taskQueue, req(shopId, 'bot', { wantsHuman: false, botEngaged: true }));
    await until(
      () => statusOf(shopId, 'bot'),
      (s) => s === 'open',
      'open',
    );
    await env.client.workflow.getHandle(`conversation:${shopId}:bot`).signal('humanRequested');
    expect(
      (
        await until(
          () => view(shopId, 'bot'),
          (x) => x.status === 'active',
          'routed',
        )
      ).agentId,
    ).toBe(agent.id);
  });
});
