/**
 * Creates that are safe to repeat (Idempotency-Key) through the API on the real dev server: the
 * repeat gets the first answer and nothing runs twice; another body under the same key is refused;
 * nothing readable is stored (the answers carry secrets shown once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createShopViaApi, startStack, type Stack } from '../support/stack';
import { purgeExpiredIdempotencyKeys } from '../../db/repositories/idempotency';

let stack: Stack;
let key: string;
const SHOP = 'idem-a';

beforeAll(async () => {
  stack = await startStack();
  key = await createShopViaApi(stack.app, SHOP);
});
afterAll(async () => stack?.stop());

const post = (url: string, body: unknown, headers: Record<string, string>) =>
  stack.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, ...headers }, payload: body as object });

describe('Idempotency-Key', () => {
  it('a repeated create gets the first answer, marked replayed, and creates once; nothing readable is stored', async () => {
    const first = await post(`/v1/shops/${SHOP}/agents`, { name: 'Ann', capacity: 2 }, { 'idempotency-key': 'create-ann-1' });
    expect(first.statusCode).toBe(201);
    const again = await post(`/v1/shops/${SHOP}/agents`, { name: 'Ann', capacity: 2 }, { 'idempotency-key': 'create-ann-1' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const agents = await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents`, { key });
    expect(agents.body.items.filter((a: { name: string }) => a.name === 'Ann')).toHaveLength(1);

    const rows = await stack.tdb.db('idempotency_keys').select('key', 'response');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.key).not.toContain('create-ann-1');
      expect(r.response).not.toContain(first.json().apiKey);
      expect(r.response).not.toContain('Ann');
    }
  });

  it('the same key with another body is refused and changes nothing; a bad key is a 400', async () => {
    await post(`/v1/shops/${SHOP}/groups`, { name: '售前', scopes: ['presales'] }, { 'idempotency-key': 'grp-1' });
    const other = await post(`/v1/shops/${SHOP}/groups`, { name: '售后', scopes: ['aftersales'] }, { 'idempotency-key': 'grp-1' });
    expect([other.statusCode, other.json().error.code]).toEqual([409, 'idempotency_key_reused']);
    const groups = await call(stack.app, 'GET', `/v1/shops/${SHOP}/groups`, { key });
    expect(groups.body.items.map((g: { name: string }) => g.name)).toEqual(['售前']);
    for (const bad of ['x'.repeat(256), 'with space', '中文']) {
      const res = await post(`/v1/shops/${SHOP}/groups`, { name: 'G', scopes: ['g'] }, { 'idempotency-key': bad });
      expect(res.statusCode, bad).toBe(400);
    }
    // Without the header a create runs each time, as before.
    expect((await post(`/v1/shops/${SHOP}/groups`, { name: 'G2', scopes: ['g'] }, {})).statusCode).toBe(201);
  });

  it('a transfer retried after it succeeded answers the same transfer instead of a conflict', async () => {
    const a = (await post(`/v1/shops/${SHOP}/agents`, { name: 'T1', capacity: 5, status: 'online' }, {})).json().agent;
    await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${a.id}`, { key, body: { status: 'online' } });
    const started = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key,
      body: { sessionId: 'idem-s1', buyerId: 'b1', topic: 'vip', wantsHuman: true },
    });
    expect(started.body.session.status).toBe('active');
    const from = started.body.session.agentId;
    const b = (await post(`/v1/shops/${SHOP}/agents`, { name: 'T2', capacity: 5, status: 'online' }, {})).json().agent;
    const to = from === b.id ? a.id : b.id;
    const once = await post(`/v1/shops/${SHOP}/sessions/idem-s1/transfer`, { toAgentId: to }, { 'idempotency-key': 'tr-1' });
    expect(once.statusCode).toBe(200);
    const twice = await post(`/v1/shops/${SHOP}/sessions/idem-s1/transfer`, { toAgentId: to }, { 'idempotency-key': 'tr-1' });
    expect([twice.statusCode, twice.json().transfer.assignmentId]).toEqual([200, once.json().transfer.assignmentId]);
    const plain = await post(`/v1/shops/${SHOP}/sessions/idem-s1/transfer`, { toAgentId: to }, {});
    expect([plain.statusCode, plain.json().error.details.reason]).toEqual([409, 'same_agent']);
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/idem-s1`, { key })).body.transfers).toHaveLength(1);
  });

  it('the header is in the served description of every idempotent create', async () => {
    const doc = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, method] of [
      ['/v1/shops/{shopId}/agents', 'post'],
      ['/v1/shops/{shopId}/groups', 'post'],
      ['/v1/shops/{shopId}/keys', 'post'],
      ['/v1/shops/{shopId}/webhooks', 'post'],
      ['/v1/shops/{shopId}/sessions/{sessionId}/transfer', 'post'],
      ['/v1/shops/{shopId}/distribution/run-now', 'post'],
      ['/v1/shops/{shopId}/offline-messages/assign', 'post'],
      ['/v1/admin/shops', 'post'],
      ['/v1/admin/shops/{shopId}/keys', 'post'],
      ['/v1/shops/{shopId}/sessions/{sessionId}/close', 'post'],
      ['/v1/shops/{shopId}/sessions/{sessionId}/leave-queue', 'post'],
      ['/v1/shops/{shopId}/sessions/{sessionId}/request-human', 'post'],
    ]) {
      const params = doc.paths[path][method].parameters as { in: string; name: string }[];
      expect(
        params.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
        `${method} ${path}`,
      ).toBe(true);
    }
  });

  it('a close retried after it succeeded answers the same close instead of a conflict', async () => {
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body: { sessionId: 'idem-c1', buyerId: 'b', topic: 't' } });
    const close = () =>
      stack.app.inject({
        method: 'POST',
        url: `/v1/shops/${SHOP}/sessions/idem-c1/close`,
        headers: { authorization: `Bearer ${key}`, 'idempotency-key': 'close-1' },
        payload: { by: 'buyer' },
      });
    const once = await close();
    const twice = await close();
    expect([once.statusCode, once.json().closeReason]).toEqual([200, 'closed_by_buyer']);
    expect([twice.statusCode, twice.headers['idempotent-replayed'], twice.json()]).toEqual([200, 'true', once.json()]);
    const plain = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/idem-c1/close`, { key, body: { by: 'buyer' } });
    // Without the key the repeat is told the truth: closed (or, once its run ended, no longer live).
    expect(plain.status).toBe(409);
    expect(['session_closed', 'session_not_live']).toContain(plain.body.error.code);
  });

  it('answers past their day are purged; younger ones stay', async () => {
    const now = new Date('2026-06-01T12:00:00.000Z');
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3_600_000).toISOString();
    await stack.tdb.db('idempotency_keys').insert([
      { scope: 'purge-test', key: 'old', request_hash: 'h', status_code: 201, response: 'x', created_at: at(25) },
      { scope: 'purge-test', key: 'young', request_hash: 'h', status_code: 201, response: 'x', created_at: at(23) },
    ]);
    expect(await purgeExpiredIdempotencyKeys(stack.tdb.db, now, 1)).toBeGreaterThanOrEqual(1);
    expect(await stack.tdb.db('idempotency_keys').where({ scope: 'purge-test' }).pluck('key')).toEqual(['young']);
  });
});
