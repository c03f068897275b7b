/**
 * The shop queue on a real Postgres: routing stamps a session into the queue under the shop's routing
 * lock, so the place it tells a buyer stays true even when runs reach the lock out of time order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../db/repositories/agents';
import { queuePositionOf, routeSession } from '../../db/repositories/routing';
import { openSession } from '../../db/repositories/sessions';
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
      await openSession(tdb.db, { shopId, sessionId, buyerId: `b-${sessionId}`, topic: 'presales', wantsHuman: true, botEngaged: false, policy: 'current', at: new Date(t0).toISOString() });
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
    await openSession(tdb.db, { shopId, sessionId: 'later', buyerId: 'b-later', topic: 'presales', wantsHuman: true, botEngaged: false, policy: 'current', at: new Date(t0).toISOString() });
    expect(await routeSession(tdb.db, shopId, 'later', new Date(t0 + 5_000).toISOString())).toEqual({ kind: 'queued', queuedAt: new Date(t0 + 5_000).toISOString(), position: 3 });
  });
});
