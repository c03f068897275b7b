/**
 * The shop queue on a real Postgres: routing stamps a session into the queue under the shop's routing
 * lock, so the place it tells a buyer stays true even when runs reach the lock out of time order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, updateAgent } from '../../db/repositories/agents';
import { queuePlaceOf, queuePositionOf } from '../../db/repositories/queue-moves';
import { routeSession } from '../../db/repositories/routing';
import { closeSession, openSession } from '../../db/repositories/sessions';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

describe('queue places', () => {
  it('a run whose time predates a session queued a moment earlier joins behind it: both places told stay true', async () => {
    const { shopId } = await seedShop(tdb.db);
    // Someone serves the topic but has no free seat: wanting a human means the queue.
    await createAgent(tdb.db, shopId, { name: 'Full', capacity: 0, status: 'online' });
    const t0 = Date.parse('2026-11-22T08:00:00.000Z');
    for (const sessionId of ['early', 'late']) {
      await openSession(tdb.db, {
        shopId,
        sessionId,
        buyerId: `b-${sessionId}`,
        topic: 'presales',
        wantsHuman: true,
        botEngaged: false,
        policy: 'current',
        at: new Date(t0).toISOString(),
      });
    }

    // "late" reaches the lock first, then "early", whose run's time is 50 ms before it.
    const late = await routeSession(tdb.db, shopId, 'late', new Date(t0 + 50).toISOString());
    const early = await routeSession(tdb.db, shopId, 'early', new Date(t0).toISOString());
    expect(late).toEqual({ kind: 'queued', queuedAt: new Date(t0 + 50).toISOString(), position: 1 });
    expect(early).toEqual({ kind: 'queued', queuedAt: new Date(t0 + 51).toISOString(), position: 2 });
    expect([await queuePositionOf(tdb.db, shopId, 'late'), await queuePositionOf(tdb.db, shopId, 'early')]).toEqual([1, 2]);

    // The events say the same places and the stamps the runs time their 24 h from.
    const events = await tdb.db('events').where({ shop_id: shopId, type: 'session.queued' }).orderBy('seq').select('session_id', 'data');
    expect(events.map((e) => [e.session_id, e.data.position, e.data.queuedAt])).toEqual([
      ['late', 1, new Date(t0 + 50).toISOString()],
      ['early', 2, new Date(t0 + 51).toISOString()],
    ]);

    // In time order, a session's own time stands.
    await openSession(tdb.db, {
      shopId,
      sessionId: 'later',
      buyerId: 'b-later',
      topic: 'presales',
      wantsHuman: true,
      botEngaged: false,
      policy: 'current',
      at: new Date(t0).toISOString(),
    });
    expect(await routeSession(tdb.db, shopId, 'later', new Date(t0 + 5_000).toISOString())).toEqual({
      kind: 'queued',
      queuedAt: new Date(t0 + 5_000).toISOString(),
      position: 3,
    });
  });
});

describe('the queue as it moves', () => {
  const T0 = Date.parse('2026-11-22T08:00:00.000Z');
  const iso = (ms: number) => new Date(T0 + ms).toISOString();

  /** `n` sessions queued one millisecond apart behind a full agent, inserted in one statement. */
  async function queueOf(shopId: string, n: number) {
    await tdb.db.raw(
      `INSERT INTO sessions (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, policy, settings_version, settings_snapshot, status, queued_at, created_at)
       SELECT ?, 'q' || lpad(i::text, 5, '0'), 'b' || i, 'presales', true, false, 'current', 0, '{}', 'queued', to_timestamp((?::bigint + i) / 1000.0), to_timestamp(?::bigint / 1000.0)
       FROM generate_series(1, ?) AS i`,
      [shopId, T0, T0, n],
    );
  }

  it('a departure tells the sessions behind it their new place: every place up to 10, then 20, 50, 100, …', async () => {
    const { shopId } = await seedShop(tdb.db);
    await createAgent(tdb.db, shopId, { name: 'Full', capacity: 0, status: 'online' });
    await queueOf(shopId, 60);
    // The third in line gives up: those behind it at told places hear it (places 3–10, 20 and 50).
    await closeSession(tdb.db, {
      shopId,
      sessionId: 'q00003',
      reason: 'left_queue',
      at: iso(60_000),
      toOfflinePool: true,
      onlyIfQueued: true,
      lastBuyerMessageAt: null,
      lastAgentMessageAt: null,
      messageCount: 0,
    });
    const told = await tdb
      .db('events')
      .where({ shop_id: shopId, type: 'session.queue_position_changed' })
      .orderBy('seq')
      .select('session_id', 'data');
    expect(told.map((e) => [e.session_id, e.data.position])).toEqual([
      ...[4, 5, 6, 7, 8, 9, 10, 11].map((i) => [`q${String(i).padStart(5, '0')}`, i - 1]),
      ['q00021', 20],
      ['q00051', 50],
    ]);
    expect(told.every((e) => e.data.queueLength === 59)).toBe(true);
    expect(await queuePositionOf(tdb.db, shopId, 'q00021')).toBe(20);
  });

  it('1,000 queued drained by a seat: each departure tells at most 10 + 3 per decade, not the whole queue', async () => {
    const { shopId } = await seedShop(tdb.db);
    const agent = await createAgent(tdb.db, shopId, { name: 'Seat', capacity: 0, status: 'online' });
    await queueOf(shopId, 1000);
    // One seat frees 100 times (the agent serves and closes one session at a time).
    await tdb.db('agents').where({ id: agent.id }).update({ capacity: 1 });
    const perDeparture: number[] = [];
    for (let i = 0; i < 100; i++) {
      const before = Number(
        (await tdb.db('events').where({ shop_id: shopId, type: 'session.queue_position_changed' }).count({ n: '*' }))[0].n,
      );
      await updateAgent(tdb.db, shopId, agent.id, { capacity: 1 }, iso(i * 1_000 + 500));
      const served = await tdb.db('sessions').where({ shop_id: shopId, agent_id: agent.id, status: 'active' }).first('session_id');
      await closeSession(tdb.db, {
        shopId,
        sessionId: served.session_id,
        reason: 'closed_by_agent',
        at: iso(i * 1_000 + 900),
        toOfflinePool: false,
        onlyIfQueued: false,
        lastBuyerMessageAt: null,
        lastAgentMessageAt: null,
        messageCount: 0,
      });
      const after = Number(
        (await tdb.db('events').where({ shop_id: shopId, type: 'session.queue_position_changed' }).count({ n: '*' }))[0].n,
      );
      perDeparture.push(after - before);
    }
    // Round 0 takes two from the queue (the seat opening, then its close); every later round one.
    expect(perDeparture[0]).toBeLessThanOrEqual(2 * (10 + 3 * 3));
    expect(Math.max(...perDeparture.slice(1))).toBeLessThanOrEqual(10 + 3 * 3);
    // Every place a buyer is told is a told place: nine places plus 20, 50, 100, 200, 500 for the 999 left, and so on.
    expect(perDeparture.slice(1).every((n) => n >= 10 && n <= 15)).toBe(true);
    expect(await queuePositionOf(tdb.db, shopId, 'q01000')).toBe(1000 - 101);
  });

  it("a queued session's read gives its place and the wait estimated from the queue's serving rate", async () => {
    const { shopId } = await seedShop(tdb.db);
    const agent = await createAgent(tdb.db, shopId, { name: 'Seat', capacity: 0, status: 'online' });
    await queueOf(shopId, 10);
    expect(await queuePlaceOf(tdb.db, shopId, 'q00005', new Date(T0 + 60_000))).toEqual({
      position: 5,
      estimatedWaitSeconds: null,
      servedInWindow: 0,
      windowMinutes: 60,
    });
    // The queue serves 4 sessions within the hour.
    await tdb.db('agents').where({ id: agent.id }).update({ capacity: 4 });
    await updateAgent(tdb.db, shopId, agent.id, { capacity: 4 }, iso(120_000));
    const place = await queuePlaceOf(tdb.db, shopId, 'q00010', new Date(T0 + 180_000));
    // Place 6, 4 served per 3600 s: 6 × 900 s.
    expect(place).toEqual({ position: 6, estimatedWaitSeconds: 5400, servedInWindow: 4, windowMinutes: 60 });
  });
});
