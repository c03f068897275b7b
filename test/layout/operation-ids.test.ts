/**
 * Every operation of the served OpenAPI description names itself: an operationId, unique, starting
 * with a lower-case verb (the typed client and generated SDKs call operations by it). A documented
 * route without one fails the app's start, naming the route, instead of shipping an invented id. The
 * README and docs/api.md list every one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createDb, type Db } from '../../db/connection';

/** The verbs operationIds start with; a new one is a naming decision, made here on purpose. */
const VERBS = [
  'assign',
  'close',
  'create',
  'delete',
  'dryRun',
  'get',
  'issue',
  'leave',
  'list',
  'redeliver',
  'replay',
  'report',
  'request',
  'retry',
  'revoke',
  'run',
  'set',
  'start',
  'stream',
  'test',
  'transfer',
  'update',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let db: Db;
let app: FastifyInstance;

// Building the routes and serving the description touch neither Postgres nor Temporal (no rate-limit
// store either): neither is reachable here.
const build = () =>
  buildApp({
    db,
    temporal: { client: {} as Client, taskQueue: 'unused' },
    adminToken: undefined,
    logLevel: 'silent',
    rateLimitPerMinute: 0,
  });

beforeAll(async () => {
  db = createDb('postgres://unused@127.0.0.1:1/unused');
  app = await build();
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await db?.destroy();
});

describe('operationIds', () => {
  it('every served operation has one, all unique, each starting with a lower-case verb', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { operationId?: string }>>;
    const operations = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, id: op.operationId })),
    );
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter((o) => !o.id).map((o) => o.route)).toEqual([]);
    const ids = operations.map((o) => o.id!);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const verbOf = (id: string) => VERBS.find((v) => id === v || new RegExp(`^${v}[A-Z0-9]`).test(id));
    expect(operations.filter((o) => !verbOf(o.id!)).map((o) => `${o.route}: ${o.id}`)).toEqual([]);

    // The README's list and docs/api.md's table name exactly the served operations.
    const listed = (file: string) =>
      new Set([...fs.readFileSync(path.join(__dirname, '../..', file), 'utf8').matchAll(/`([a-z][A-Za-z]+)`/g)].map((m) => m[1]));
    for (const file of ['README.md', 'docs/api.md']) {
      const named = listed(file);
      expect(
        ids.filter((id) => !named.has(id)),
        `${file} misses`,
      ).toEqual([]);
    }
  });

  it('a documented route without one fails the start, naming the route; a hidden one needs none', async () => {
    const fresh = await build();
    try {
      expect(() => fresh.get('/v1/shops/:shopId/nameless', { schema: { tags: ['x'] } }, async () => ({}))).toThrow(
        /GET \/v1\/shops\/:shopId\/nameless has no operationId/,
      );
      expect(() => fresh.get('/schemaless', async () => ({}))).toThrow(/GET \/schemaless has no operationId/);
      expect(() => fresh.get('/internal', { schema: { hide: true } }, async () => ({}))).not.toThrow();
    } finally {
      await fresh.close();
    }
  });
});
