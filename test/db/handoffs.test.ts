/**
 * Transfers (转接) on a real Postgres: the seat rules, the refusals that change nothing, the freed seat
 * serving the queue, and the races (two transfers at once, a transfer racing a close, a transfer to
 * the last free seat racing live routing): never over capacity, never two holders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createGroup } from '../../db/repositories/agents';
import { listTransfers, transferSession, type TransferRequest } from '../../db/repositories/handoffs';
import { routeSession } from '../../db/repositories/routing';
import { closeSession, openSession } from '../../db/repositories/sessions';
import { DomainError } from '../../domain/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

/** Every time in this file is counted from this instant: the tests pass on any date. */
const T0 = Date.parse('2026-11-22T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

async function routedSession(shopId: string, sessionId: string, ms = 0, topic = 'presales') {
  await openSession(tdb.db, {
    shopId,
    sessionId,
    buyerId: `b-${sessionId}`,
    topic,
    wantsHuman: true,
    botEngaged: false,
    policy: 'current',
    at: at(ms),
  });
  return routeSession(tdb.db, shopId, sessionId, at(ms));
}

const load = async (agentId: string): Promise<number> =>
  (await tdb.db('agents').where({ id: agentId }).first('active_sessions')).active_sessions;
const holder = async (shopId: string, sessionId: string): Promise<string | null> =>
  (await tdb.db('sessions').where({ shop_id: shopId, session_id: sessionId }).first('agent_id')).agent_id;

const transfer = (req: Partial<TransferRequest> & Pick<TransferRequest, 'shopId' | 'sessionId' | 'target'>) =>
  transferSession(tdb.db, { note: null, operator: 'merchant [key k1]', at: at(60_000), ...req });

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number; reason?: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  const d = err as DomainError;
  return {
    code: d.code,
    status: d.httpStatus,
    ...((d.details as { reason?: string } | undefined)?.reason ? { reason: (d.details as { reason: string }).reason } : {}),
  };
}

describe('transfer to an agent', () => {
  it('moves the seat, records the transfer with its operator and note, appends session.transferred and tells the run', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 2, status: 'online' });
    await routedSession(shopId, 's1');
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 2, status: 'online' });
    expect(await holder(shopId, 's1')).toBe(a.id);

    const { transfer: t } = await transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id }, note: '转售后' });
    expect(t).toMatchObject({
      fromAgentId: a.id,
      toAgentId: b.id,
      note: '转售后',
      operator: 'merchant [key k1]',
      groupId: null,
      at: at(60_000),
    });
    expect([await load(a.id), await load(b.id), await holder(shopId, 's1')]).toEqual([0, 1, b.id]);

    const [record] = await tdb.db('assignment_records').where({ shop_id: shopId, kind: 'transfer' });
    expect(record).toMatchObject({
      agent_id: b.id,
      from_agent_id: a.id,
      operator: 'merchant [key k1]',
      reason: '转接',
      note: '转售后',
      outcome: 'assigned',
    });
    const [event] = await tdb.db('events').where({ shop_id: shopId, type: 'session.transferred' });
    expect(event.data).toMatchObject({
      sessionId: 's1',
      fromAgentId: a.id,
      toAgentId: b.id,
      note: '转售后',
      operator: 'merchant [key k1]',
    });
    const [outbox] = await tdb.db('outbox').where({ shop_id: shopId, kind: 'agent_transferred' });
    expect(outbox.payload.transfer).toEqual({
      assignmentId: t.assignmentId,
      agentId: b.id,
      operator: 'merchant [key k1]',
      reason: '转接',
      fromAgentId: a.id,
    });
    expect(await listTransfers(tdb.db, shopId, 's1')).toEqual([t]);
  });

  it('refuses an agent who is the holder, offline, on a break or full, and an unknown one; nothing changes', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await routedSession(shopId, 's1');
    const off = await createAgent(tdb.db, shopId, { name: 'Off', capacity: 5, status: 'offline' });
    const pause = await createAgent(tdb.db, shopId, { name: 'Pause', capacity: 5, status: 'suspended' });
    const full = await createAgent(tdb.db, shopId, { name: 'Full', capacity: 0, status: 'online' });
    const unavailable = (reason: string) => ({ code: 'transfer_target_unavailable', status: 409, reason });

    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: a.id } }))).toEqual(unavailable('same_agent'));
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: off.id } }))).toEqual(unavailable('offline'));
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: pause.id } }))).toEqual(unavailable('suspended'));
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: full.id } }))).toEqual(unavailable('full'));
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: 'nobody' } }))).toEqual({
      code: 'not_found',
      status: 404,
    });
    expect(await refusal(transfer({ shopId, sessionId: 'nope', target: { toAgentId: off.id } }))).toEqual({
      code: 'not_found',
      status: 404,
    });

    expect([await holder(shopId, 's1'), await load(a.id)]).toEqual([a.id, 1]);
    expect(await tdb.db('assignment_records').where({ shop_id: shopId, kind: 'transfer' })).toHaveLength(0);
    expect(await tdb.db('events').where({ shop_id: shopId, type: 'session.transferred' })).toHaveLength(0);
  });

  it("an agent's key moves only a session it holds; another agent's session is as good as absent", async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await routedSession(shopId, 's1');
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id }, holderMustBe: b.id }))).toEqual({
      code: 'not_found',
      status: 404,
    });
    await transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id }, holderMustBe: a.id });
    expect(await holder(shopId, 's1')).toBe(b.id);
  });

  it('refuses a session that is queued or closed', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 0, status: 'online' });
    expect((await routedSession(shopId, 'q1')).kind).toBe('queued');
    expect(await refusal(transfer({ shopId, sessionId: 'q1', target: { toAgentId: a.id } }))).toEqual({
      code: 'session_not_active',
      status: 409,
    });
  });

  it('the seat the session left serves the oldest queued session at once', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 1, status: 'online' });
    await routedSession(shopId, 's1');
    expect((await routedSession(shopId, 'waiting', 1_000)).kind).toBe('queued');
    expect((await routedSession(shopId, 'waiting2', 2_000)).kind).toBe('queued');
    // B is online with one free seat, and has not drained the queue (set behind routing's back).
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 1, status: 'offline' });
    await tdb.db('agents').where({ id: b.id }).update({ status: 'online' });

    const { drained } = await transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id }, at: at(9_000) });
    expect(drained.map((d) => d.agentId)).toEqual([a.id]);
    expect([await holder(shopId, 's1'), await holder(shopId, 'waiting'), await holder(shopId, 'waiting2')]).toEqual([b.id, a.id, null]);
    expect([await load(a.id), await load(b.id)]).toEqual([1, 1]);
  });
});

describe('transfer to a group', () => {
  it('goes to the least-loaded online member with a free seat other than the holder; none free → 409', async () => {
    const { shopId } = await seedShop(tdb.db);
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await routedSession(shopId, 's1');
    await routedSession(shopId, 's2', 1_000);
    const busy = await createAgent(tdb.db, shopId, { name: 'Busy', capacity: 5, status: 'online' });
    const idle = await createAgent(tdb.db, shopId, { name: 'Idle', capacity: 5, status: 'online' });
    const pause = await createAgent(tdb.db, shopId, { name: 'Pause', capacity: 5, status: 'suspended' });
    await tdb.db('agents').where({ id: busy.id }).update({ active_sessions: 2 });
    const group = await createGroup(tdb.db, shopId, {
      name: 'After-sales',
      scopes: ['aftersales'],
      agentIds: [a.id, busy.id, idle.id, pause.id],
    });

    const { transfer: t } = await transfer({ shopId, sessionId: 's1', target: { toGroupId: group.id } });
    expect(t).toMatchObject({ fromAgentId: a.id, toAgentId: idle.id, groupId: group.id });

    const lonely = await createGroup(tdb.db, shopId, { name: 'Only A', scopes: ['vip'], agentIds: [a.id, pause.id] });
    expect(await refusal(transfer({ shopId, sessionId: 's2', target: { toGroupId: lonely.id } }))).toEqual({
      code: 'transfer_target_unavailable',
      status: 409,
      reason: 'no_free_agent',
    });
    expect(await refusal(transfer({ shopId, sessionId: 's2', target: { toGroupId: 'grp_none' } }))).toEqual({
      code: 'not_found',
      status: 404,
    });
  });

  it("never reaches another shop's agents or groups", async () => {
    const { shopId } = await seedShop(tdb.db);
    const { shopId: other } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await routedSession(shopId, 's1');
    const theirs = await createAgent(tdb.db, other, { name: 'Theirs', capacity: 5, status: 'online' });
    const theirGroup = await createGroup(tdb.db, other, { name: 'G', scopes: ['presales'], agentIds: [theirs.id] });
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toAgentId: theirs.id } }))).toEqual({
      code: 'not_found',
      status: 404,
    });
    expect(await refusal(transfer({ shopId, sessionId: 's1', target: { toGroupId: theirGroup.id } }))).toEqual({
      code: 'not_found',
      status: 404,
    });
    expect(await refusal(transfer({ shopId: other, sessionId: 's1', target: { toAgentId: theirs.id } }))).toEqual({
      code: 'not_found',
      status: 404,
    });
  });
});

describe('races', () => {
  it('two transfers of one session at once: one wins, the other finds the new holder; loads stay true', async () => {
    for (let round = 0; round < 5; round++) {
      const { shopId } = await seedShop(tdb.db);
      const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
      await routedSession(shopId, 's1');
      const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
      const c = await createAgent(tdb.db, shopId, { name: 'C', capacity: 5, status: 'online' });
      // Both callers believe A holds it (an agent key of A each time).
      const results = await Promise.allSettled([
        transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id }, holderMustBe: a.id }),
        transfer({ shopId, sessionId: 's1', target: { toAgentId: c.id }, holderMustBe: a.id }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const winner = (await holder(shopId, 's1'))!;
      expect([b.id, c.id]).toContain(winner);
      expect(await load(a.id)).toBe(0);
      expect((await load(b.id)) + (await load(c.id))).toBe(1);
      expect(await tdb.db('assignment_records').where({ shop_id: shopId, kind: 'transfer' })).toHaveLength(1);
    }
  });

  it('a transfer racing a close: either the close frees the new holder, or the transfer is refused; no seat leaks', async () => {
    for (let round = 0; round < 5; round++) {
      const { shopId } = await seedShop(tdb.db);
      const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
      await routedSession(shopId, 's1');
      const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 5, status: 'online' });
      const [moved, closed] = await Promise.allSettled([
        transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id } }),
        closeSession(tdb.db, {
          shopId,
          sessionId: 's1',
          reason: 'closed_by_buyer',
          at: at(60_000),
          toOfflinePool: false,
          onlyIfQueued: false,
          lastBuyerMessageAt: null,
          lastAgentMessageAt: null,
          messageCount: 0,
        }),
      ]);
      expect(closed.status).toBe('fulfilled');
      if (moved.status === 'rejected') expect((moved.reason as DomainError).code).toBe('session_not_active');
      const closure = await tdb.db('session_closures').where({ shop_id: shopId, session_id: 's1' }).first('agent_id');
      expect(closure.agent_id).toBe(moved.status === 'fulfilled' ? b.id : a.id);
      expect([await load(a.id), await load(b.id)]).toEqual([0, 0]);
    }
  });

  it('a transfer to the last free seat racing live routing: never over capacity, never two holders', async () => {
    for (let round = 0; round < 5; round++) {
      const { shopId } = await seedShop(tdb.db);
      const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 1, status: 'online' });
      await routedSession(shopId, 's1');
      const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 1, status: 'online' });
      await openSession(tdb.db, {
        shopId,
        sessionId: 'new',
        buyerId: 'b-new',
        topic: 'presales',
        wantsHuman: true,
        botEngaged: false,
        policy: 'current',
        at: at(1_000),
      });
      const [moved, routed] = await Promise.allSettled([
        transfer({ shopId, sessionId: 's1', target: { toAgentId: b.id } }),
        routeSession(tdb.db, shopId, 'new', at(1_000)),
      ]);
      expect(routed.status).toBe('fulfilled');
      const agents = await tdb.db('agents').where({ shop_id: shopId }).select('id', 'active_sessions', 'capacity');
      for (const x of agents) expect(x.active_sessions).toBeLessThanOrEqual(x.capacity);
      const held = await tdb.db('sessions').where({ shop_id: shopId, status: 'active' }).select('session_id', 'agent_id');
      // Each active session has one holder, and the loads are exactly what is held.
      for (const x of agents) expect(x.active_sessions).toBe(held.filter((h) => h.agent_id === x.id).length);
      if (moved.status === 'fulfilled') {
        // The transfer won B's seat; A's freed seat went to the new session (routed or drained from the queue).
        expect(await holder(shopId, 's1')).toBe(b.id);
        expect(await holder(shopId, 'new')).toBe(a.id);
      } else {
        expect((moved.reason as DomainError).code).toBe('transfer_target_unavailable');
        expect(await holder(shopId, 'new')).toBe(b.id);
      }
    }
  });
});
