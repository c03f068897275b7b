/**
 * The HTTP framework against the real dev server and Postgres: credentials, the error model,
 * validation that changes nothing, health and the served OpenAPI description.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, createShopViaApi, startStack, type Stack } from '../support/stack';

let stack: Stack;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  stack = await startStack();
  keyA = await createShopViaApi(stack.app, 'fw-a');
  keyB = await createShopViaApi(stack.app, 'fw-b');
});
afterAll(async () => stack?.stop());

describe('health and documentation', () => {
  it('GET /healthz reports Postgres and Temporal', async () => {
    const res = await call(stack.app, 'GET', '/healthz');
    expect(res).toEqual({ status: 200, body: { ok: true, postgres: { ok: true }, temporal: { ok: true } } });
  });

  it('serves the OpenAPI description with every route, schema and security scheme', async () => {
    const res = await call(stack.app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.0.3');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/v1/admin/shops',
        '/v1/shops/{shopId}/sessions',
        '/v1/shops/{shopId}/sessions/{sessionId}/messages',
        '/v1/shops/{shopId}/settings/session',
      ]),
    );
    expect(Object.keys(res.body.components.securitySchemes)).toEqual(['shopKey', 'adminToken']);
    const start = res.body.paths['/v1/shops/{shopId}/sessions'].post;
    expect(start.requestBody.content['application/json'].schema.required).toEqual(['sessionId', 'buyerId', 'topic']);
  });

  it('lists, per operation and status, the error codes it can answer as an enum, with a description', async () => {
    const res = await call(stack.app, 'GET', '/openapi.json');
    const operations = Object.entries(res.body.paths as Record<string, Record<string, { responses: Record<string, any> }>>) // eslint-disable-line @typescript-eslint/no-explicit-any
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ id: `${method} ${path}`, responses: op.responses })));
    expect(operations.length).toBeGreaterThan(40);
    for (const { id, responses } of operations) {
      for (const [status, response] of Object.entries(responses)) {
        expect(response.description, `${id} ${status}`).not.toBe('Default Response');
        if (Number(status) < 400) continue;
        expect(response.description, `${id} ${status}`).not.toBe('Default Response');
        const codes = response.content['application/json'].schema.properties.error.properties.code.enum;
        expect(Array.isArray(codes) && codes.length > 0, `${id} ${status} enumerates its codes`).toBe(true);
      }
      expect(responses['401'].content['application/json'].schema.properties.error.properties.code.enum, id).toEqual(['unauthorized']);
    }
    const close = res.body.paths['/v1/shops/{shopId}/sessions/{sessionId}/close'].post.responses;
    expect(close['409'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['session_closed', 'session_not_live']),
    );
    const settings = res.body.paths['/v1/shops/{shopId}/settings/session'].put.responses;
    expect(settings['422'].content['application/json'].schema.properties.error.properties.code.enum).toEqual([
      'agent_reply_timeout_not_configurable',
    ]);
    // A GET has no body: no 413 / 415 to promise.
    expect(res.body.paths['/v1/shops/{shopId}/queue'].get.responses['415']).toBeUndefined();
  });

  it('serves the docs page', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('credentials', () => {
  it('admin routes need the admin token', async () => {
    const res = await call(stack.app, 'POST', '/v1/admin/shops', { body: { id: 'x1', name: 'X' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    const wrong = await call(stack.app, 'POST', '/v1/admin/shops', { key: keyA, body: { id: 'x1', name: 'X' } });
    expect(wrong.status).toBe(401);
  });

  it('accepts the shop key on its own shop', async () => {
    const res = await call(stack.app, 'GET', '/v1/shops/fw-a/settings/session', { key: keyA });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 0, buyerIdleMinutes: 20, agentReplyTimeoutMinutes: 360 });
  });

  it('rejects a missing or unknown key with 401', async () => {
    for (const key of [undefined, 'csk_not-a-real-key']) {
      const res = await call(stack.app, 'GET', '/v1/shops/fw-a/sessions', { key });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it("denies one shop's key on another shop, for reads and writes", async () => {
    const read = await call(stack.app, 'GET', '/v1/shops/fw-a/sessions', { key: keyB });
    expect(read.status).toBe(403);
    expect(read.body.error.code).toBe('shop_forbidden');
    const write = await call(stack.app, 'PUT', '/v1/shops/fw-a/settings/session', { key: keyB, body: { buyerIdleMinutes: 30 } });
    expect(write.status).toBe(403);
    const start = await call(stack.app, 'POST', '/v1/shops/fw-a/sessions', {
      key: keyB,
      body: { sessionId: 'z', buyerId: 'b', topic: 't' },
    });
    expect(start.status).toBe(403);
    expect((await call(stack.app, 'GET', '/v1/shops/fw-a/settings/session', { key: keyA })).body.version).toBe(0);
    expect(await stack.tdb.db('sessions').where({ shop_id: 'fw-a' })).toEqual([]);
  });

  it('issues a further key that works, shown once and stored hashed', async () => {
    const res = await call(stack.app, 'POST', '/v1/admin/shops/fw-a/keys', { key: ADMIN_TOKEN });
    expect(res.status).toBe(201);
    expect((await call(stack.app, 'GET', '/v1/shops/fw-a/sessions', { key: res.body.apiKey })).status).toBe(200);
    const stored = await stack.tdb.db('api_keys').where({ shop_id: 'fw-a' }).pluck('key_hash');
    expect(stored).not.toContain(res.body.apiKey);
    expect(stored.every((h: string) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });
});

describe('key rotation', () => {
  it('a merchant issues a new key, revokes the old one, and the old one stops working at once', async () => {
    const oldKey = await createShopViaApi(stack.app, 'fw-rot');
    const listed = await call(stack.app, 'GET', '/v1/shops/fw-rot/keys', { key: oldKey });
    expect(listed.body.items).toHaveLength(1);
    const oldId = listed.body.items[0].id;
    expect(JSON.stringify(listed.body)).not.toContain(oldKey);

    // The last live merchant key cannot go: nobody could manage the shop afterwards.
    const refused = await call(stack.app, 'DELETE', `/v1/shops/fw-rot/keys/${oldId}`, { key: oldKey });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('last_merchant_key');

    const issued = await call(stack.app, 'POST', '/v1/shops/fw-rot/keys', { key: oldKey, body: { label: 'rotation 2026-11' } });
    expect(issued.status).toBe(201);
    expect(issued.body.key).toMatchObject({ kind: 'shop', label: 'rotation 2026-11', revokedAt: null });
    const newKey: string = issued.body.apiKey;

    const revoked = await call(stack.app, 'DELETE', `/v1/shops/fw-rot/keys/${oldId}`, { key: newKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body.key.revokedAt).not.toBeNull();
    const again = await call(stack.app, 'DELETE', `/v1/shops/fw-rot/keys/${oldId}`, { key: newKey });
    expect(again.body.key.revokedAt).toBe(revoked.body.key.revokedAt);

    expect((await call(stack.app, 'GET', '/v1/shops/fw-rot/settings/session', { key: oldKey })).status).toBe(401);
    expect((await call(stack.app, 'GET', '/v1/shops/fw-rot/settings/session', { key: newKey })).status).toBe(200);
    const all = await call(stack.app, 'GET', '/v1/shops/fw-rot/keys?includeRevoked=true', { key: newKey });
    expect(all.body.items.map((k: { id: string; revokedAt: string | null }) => [k.id, k.revokedAt !== null])).toEqual([
      [oldId, true],
      [issued.body.key.id, false],
    ]);
  });

  it("an agent's key is replaced by the merchant; agent keys cannot manage keys", async () => {
    const agent = await call(stack.app, 'POST', '/v1/shops/fw-a/agents', { key: keyA, body: { name: 'Rotating' } });
    const agentKey: string = agent.body.apiKey;
    const denied = await call(stack.app, 'GET', '/v1/shops/fw-a/keys', { key: agentKey });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('merchant_only');

    const issued = await call(stack.app, 'POST', '/v1/shops/fw-a/keys', { key: keyA, body: { agentId: agent.body.agent.id } });
    expect(issued.body.key).toMatchObject({ kind: 'agent', agentId: agent.body.agent.id });
    const oldId = (await call(stack.app, 'GET', '/v1/shops/fw-a/keys', { key: keyA })).body.items.find(
      (k: { agentId: string | null; id: string }) => k.agentId === agent.body.agent.id && k.id !== issued.body.key.id,
    ).id;
    await call(stack.app, 'DELETE', `/v1/shops/fw-a/keys/${oldId}`, { key: keyA });

    const path = `/v1/shops/fw-a/agents/${agent.body.agent.id}`;
    expect((await call(stack.app, 'PATCH', path, { key: agentKey, body: { capacity: 4 } })).status).toBe(401);
    const withNew = await call(stack.app, 'PATCH', path, { key: issued.body.apiKey, body: { capacity: 4 } });
    expect(withNew.status).toBe(200);
    expect(withNew.body.capacity).toBe(4);
  });

  it('keys of another shop, unknown agents and malformed bodies are refused and change nothing', async () => {
    const bKeys = await call(stack.app, 'GET', '/v1/shops/fw-b/keys', { key: keyB });
    const bKeyId = bKeys.body.items[0].id;
    const across = await call(stack.app, 'DELETE', `/v1/shops/fw-a/keys/${bKeyId}`, { key: keyA });
    expect(across.status).toBe(404);
    expect(across.body.error.code).toBe('not_found');
    expect((await call(stack.app, 'DELETE', `/v1/shops/fw-b/keys/${bKeyId}`, { key: keyA })).status).toBe(403);

    const before = (await call(stack.app, 'GET', '/v1/shops/fw-a/keys', { key: keyA })).body.items.length;
    const ghost = await call(stack.app, 'POST', '/v1/shops/fw-a/keys', { key: keyA, body: { agentId: 'agt_nobody' } });
    expect(ghost.status).toBe(404);
    const bad = await call(stack.app, 'POST', '/v1/shops/fw-a/keys', { key: keyA, body: { kind: 'admin' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect((await call(stack.app, 'GET', '/v1/shops/fw-a/keys', { key: keyA })).body.items).toHaveLength(before);
    expect((await call(stack.app, 'GET', '/v1/shops/fw-b/settings/session', { key: keyB })).status).toBe(200);
  });
});

describe('bad input: a clear 4xx with a stable code, and nothing changes', () => {
  it('rejects malformed bodies with invalid_request', async () => {
    const cases = [
      { sessionId: 's1', topic: 'presales' }, // buyerId missing
      { sessionId: 's1', buyerId: 'b', topic: 'presales', extra: true },
      { sessionId: 'a/b', buyerId: 'b', topic: 'presales' },
      { sessionId: 's1', buyerId: 'b', topic: 'presales', policy: 'ancient' },
      { sessionId: 'x'.repeat(200), buyerId: 'b', topic: 'presales' },
    ];
    for (const body of cases) {
      const res = await call(stack.app, 'POST', '/v1/shops/fw-a/sessions', { key: keyA, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(typeof res.body.error.message).toBe('string');
    }
    expect(await stack.tdb.db('sessions').where({ shop_id: 'fw-a' })).toEqual([]);
  });

  it('rejects unparseable JSON', async () => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/shops/fw-a/sessions',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      payload: '{"sessionId":',
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.code).toBeTypeOf('string');
  });

  it('buyer-idle outside 5–360 or not whole is refused; the 6 h rule has its own code', async () => {
    for (const value of [4, 361, 20.5, -5, 0]) {
      const res = await call(stack.app, 'PUT', '/v1/shops/fw-a/settings/session', { key: keyA, body: { buyerIdleMinutes: value } });
      expect(res.status, String(value)).toBe(400);
      expect(res.body.error.code).toBe('invalid_buyer_idle_minutes');
    }
    const fixed = await call(stack.app, 'PUT', '/v1/shops/fw-a/settings/session', {
      key: keyA,
      body: { buyerIdleMinutes: 30, agentReplyTimeoutMinutes: 120 },
    });
    expect(fixed.status).toBe(422);
    expect(fixed.body.error.code).toBe('agent_reply_timeout_not_configurable');
    expect((await call(stack.app, 'GET', '/v1/shops/fw-a/settings/session', { key: keyA })).body.version).toBe(0);
  });

  it('admin input is validated too', async () => {
    const badId = await call(stack.app, 'POST', '/v1/admin/shops', { key: ADMIN_TOKEN, body: { id: 'no spaces', name: 'X' } });
    expect(badId.body.error.code).toBe('invalid_request');
    const badZone = await call(stack.app, 'POST', '/v1/admin/shops', {
      key: ADMIN_TOKEN,
      body: { id: 'tz1', name: 'X', timeZone: 'Mars/Olympus' },
    });
    expect(badZone.status).toBe(400);
    expect(badZone.body.error.code).toBe('invalid_time_zone');
    const dup = await call(stack.app, 'POST', '/v1/admin/shops', { key: ADMIN_TOKEN, body: { id: 'fw-a', name: 'X' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('shop_exists');
    expect(await stack.tdb.db('shops').whereIn('id', ['tz1', 'no spaces'])).toEqual([]);
  });

  it('unknown routes and sessions answer 404 with a code', async () => {
    expect((await call(stack.app, 'GET', '/v1/nothing')).body.error.code).toBe('route_not_found');
    const missing = await call(stack.app, 'GET', '/v1/shops/fw-a/sessions/nope', { key: keyA });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const msg = await call(stack.app, 'POST', '/v1/shops/fw-a/sessions/nope/messages', { key: keyA, body: { from: 'buyer' } });
    expect(msg.status).toBe(404);
  });

  it('a bad paging cursor is refused', async () => {
    const res = await call(stack.app, 'GET', '/v1/shops/fw-a/sessions?cursor=garbage', { key: keyA });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_cursor');
  });
});
