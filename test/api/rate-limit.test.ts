/**
 * The per-key rate limit is one budget across API processes: two apps on the same Postgres (as
 * behind start:cluster's load balancer) share each key's window, and keys do not share budgets.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { createShop } from '../../db/repositories/shops';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { call } from '../support/stack';

const LIMIT = 6;
let tdb: TestDatabase;
let apps: FastifyInstance[];
let keyA: string;
let keyB: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  keyA = (await createShop(tdb.db, { id: 'rl-a', name: 'A', timeZone: 'UTC' }))!.apiKey;
  keyB = (await createShop(tdb.db, { id: 'rl-b', name: 'B', timeZone: 'UTC' }))!.apiKey;
  // The routes read here need only Postgres; Temporal stays unreachable.
  const client = () => new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  apps = await Promise.all(
    [0, 1].map(() =>
      buildApp({
        db: tdb.db,
        temporal: { client: client(), taskQueue: 'q' },
        adminToken: 'admin',
        logLevel: 'silent',
        rateLimitPerMinute: LIMIT,
      }),
    ),
  );
});
afterAll(async () => {
  await Promise.all((apps ?? []).map((a) => a.close()));
  await tdb?.drop();
});

it('spends one budget per key across two API processes, and each key has its own', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 2; i += 1) statuses.push((await call(apps[i % 2], 'GET', '/v1/shops/rl-a/agents', { key: keyA })).status);
  expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429]);

  const limited = await call(apps[0], 'GET', '/v1/shops/rl-a/agents', { key: keyA });
  expect(limited.body.error.code).toBe('rate_limited');
  const raw = await apps[1].inject({ method: 'GET', url: '/v1/shops/rl-a/agents', headers: { authorization: `Bearer ${keyA}` } });
  expect(raw.headers['x-ratelimit-limit']).toBe(String(LIMIT));
  expect(Number(raw.headers['retry-after'])).toBeGreaterThan(0);

  // Another key, on either process, still has its whole budget.
  expect((await call(apps[1], 'GET', '/v1/shops/rl-b/agents', { key: keyB })).status).toBe(200);
  const { rows } = await tdb.db.raw<{ rows: { hits: number }[] }>('SELECT hits FROM rate_limit_windows ORDER BY hits DESC');
  expect(rows.map((r) => r.hits)).toEqual([LIMIT + 4, 1]);
});

it('starts a fresh window once the old one has ended', async () => {
  // Move the key's window a minute into the past instead of waiting for it.
  await tdb.db.raw(`UPDATE rate_limit_windows SET started_at = started_at - interval '61 seconds'`);
  expect((await call(apps[0], 'GET', '/v1/shops/rl-a/agents', { key: keyA })).status).toBe(200);
  const { rows } = await tdb.db.raw<{ rows: { hits: number }[] }>('SELECT hits FROM rate_limit_windows ORDER BY hits DESC');
  expect(rows.map((r) => r.hits).sort()).toEqual([1, 1]);
});
