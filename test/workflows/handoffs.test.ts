/**
 * Handoffs (docs/rules.md §9) on the time-skipping server with real activities and Postgres: a
 * transfer moves the run to its new agent and keeps the run's timers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createAgent } from '../../db/repositories/agents';
import { transferSession } from '../../db/repositories/handoffs';
import { listSessionClosures } from '../../db/repositories/sessions';
import { AGENT_REPLY_TIMEOUT_MS, HOUR_MS, MINUTE_MS } from '../../domain/limits';
import { TRANSFER_REASON } from '../../domain/assignment';
import { conversationWorkflowId } from '../../domain/temporal-names';
import type { StartSessionRequest } from '../../domain/session';
import type { ConversationView } from '../../contracts/conversation';
import { queryConversation, reportMessage, startConversation } from '../../temporal/session-gateway';
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
    const before = await until(() => view(shopId, 't1'), (v) => v.messageCount === 1, 'the buyer message');
    const deadline = before.nextDeadline!;
    expect(deadline.reason).toBe('agent_reply_timeout');
    const asked = ms(deadline.at) - AGENT_REPLY_TIMEOUT_MS;
    expect(asked).toBeLessThanOrEqual(ms(before.lastBuyerMessageAt));
    await env.sleep(AGENT_REPLY_TIMEOUT_MS - MINUTE_MS);
    const at = new Date(await env.currentTimeMs()).toISOString();
    await transferSession(tdb.db, { shopId, sessionId: 't1', target: { toAgentId: b.id }, note: null, operator: 'test', at });

    const moved = await until(() => view(shopId, 't1'), (v) => v.agentId === b.id, 'the run hears the transfer');
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
    await transferSession(tdb.db, { shopId, sessionId: 't2', target: { toAgentId: b.id }, note: '请跟进', operator: 'test', at: new Date(await env.currentTimeMs()).toISOString() });
    await until(() => view(shopId, 't2'), (v) => v.agentId === b.id, 'the run hears the transfer');
    await reportMessage(env.client, shopId, 't2', { from: 'agent', messageId: 'r1', agentId: b.id });
    const replied = await until(() => view(shopId, 't2'), (v) => v.turn === 'buyer', 'the reply');
    expect(replied.nextDeadline!.reason).toBe('buyer_idle_timeout');
    const final = await resultOrExplain<ConversationView>(env, conversationWorkflowId(shopId, 't2'));
    expect(final.closeReason).toBe('buyer_idle_timeout');
    expect((await listSessionClosures(tdb.db, shopId, 't2')).map((c) => c.agentId)).toEqual([b.id]);
  });
});
