/**
 * Dependency outages are 503 with a retryable code and Retry-After, answered within a bounded time:
 * Postgres unreachable (even before the key check), Temporal unreachable. And recovery needs no
 * restart: the same app answers again once the dependency is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { createDb } from '../../db/connection';
import { createShop } from '../../db/repositories/shops';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { TEST_WEBHOOKS } from '../support/temporal';

let tdb: TestDatabase;
let key: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  key = (await createShop(tdb.db, { id: 'out', name: 'Out', timeZone: 'UTC' }))!.apiKey;
});
afterAll(async () => tdb?.drop());

describe('outages', () => {
  it('Postgres unreachable: 503 database_unavailable with Retry-After, on every kind of route', async () => {
    const db = createDb(`postgres://postgres:postgres@127.0.0.1:${await freePort()}/none`);
    const connection = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 100 }).catch(() => null);
    const app = await buildApp({
      db,
      temporal: { client: new Client({ connection: connection ?? Connection.lazy({ address: '127.0.0.1:1' }) }), taskQueue: 'q' },
      adminToken: 'admin',
      logLevel: 'silent',
    });
    try {
      for (const [method, url, body] of [
        ['GET', '/v1/shops/out/sessions', undefined],
        ['POST', '/v1/shops/out/agents', { name: 'A' }],
        ['GET', '/v1/shops/out/events', undefined],
      ] as const) {
        const t0 = Date.now();
        const res = await app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });
        expect(res.statusCode, url).toBe(503);
        expect(res.json().error.code).toBe('database_unavailable');
        expect(res.headers['retry-after']).toBe('5');
        expect(Date.now() - t0).toBeLessThan(15_000);
      }
    } finally {
      await app.close();
      await db.destroy();
    }
  });

  it('Temporal unreachable: 503 temporal_unavailable; reads from Postgres still answer', async () => {
    const client = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }) });
    const app = await buildApp({
      db: tdb.db,
      temporal: { client, taskQueue: 'q' },
      adminToken: 'admin',
      logLevel: 'silent',
      webhooks: TEST_WEBHOOKS,
    });
    try {
      const headers = { authorization: `Bearer ${key}` };
      // A webhook whose delivery run cannot start is not saved: the retry the 503 invites creates it once.
      const hook = await app.inject({
        method: 'POST',
        url: '/v1/shops/out/webhooks',
        headers,
        payload: { url: 'http://127.0.0.1:9/hooks' },
      });
      expect([hook.statusCode, hook.json().error.code]).toEqual([503, 'temporal_unavailable']);
      expect(await tdb.db('webhook_endpoints').where({ shop_id: 'out' })).toEqual([]);
      const settings = await app.inject({
        method: 'PUT',
        url: '/v1/shops/out/settings/session',
        headers,
        payload: { buyerIdleMinutes: 30 },
      });
      expect(settings.statusCode).toBe(503);
      expect(settings.json().error.code).toBe('temporal_unavailable');
      expect(settings.headers['retry-after']).toBe('5');
      const start = await app.inject({
        method: 'POST',
        url: '/v1/shops/out/sessions',
        headers,
        payload: { sessionId: 's', buyerId: 'b', topic: 't' },
      });
      expect(start.statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/v1/shops/out/sessions', headers })).statusCode).toBe(200);
      expect(await tdb.db('session_settings_versions').where({ shop_id: 'out' })).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
