/**
 * The reads the console is built on, through the HTTP API on the real dev server: who a key is, an
 * agent key's own sessions and events only, a session's timeline, and the assignment records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAgentViaApi, createShopViaApi, startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';
import { buildConsole } from '../../scripts/build-console';

let stack: Stack;
let shopKey: string;
const SHOP = 'cons-api';

beforeAll(async () => {
  buildConsole();
  stack = await startStack();
  shopKey = await createShopViaApi(stack.app, SHOP);
});
afterAll(async () => stack?.stop());

const agent = (name: string, status: string) => createAgentViaApi(stack.app, SHOP, shopKey, { name, capacity: 3, status });

describe('console reads', () => {
  it('GET /v1/me names the shop and, for an agent key, the agent; a bad key is 401', async () => {
    const merchant = await call(stack.app, 'GET', '/v1/me', { key: shopKey });
    expect(merchant.status).toBe(200);
    expect(merchant.body).toMatchObject({ shopId: SHOP, shopName: `Shop ${SHOP}`, timeZone: 'Asia/Shanghai', kind: 'shop', agent: null });
    const a = await agent('Me', 'offline');
    const mine = await call(stack.app, 'GET', '/v1/me', { key: a.apiKey });
    expect(mine.body).toMatchObject({ shopId: SHOP, kind: 'agent', agent: { agentId: a.id, name: 'Me' } });
    expect((await call(stack.app, 'GET', '/v1/me', { key: 'csk_nope' })).status).toBe(401);
    expect((await call(stack.app, 'GET', '/v1/me')).status).toBe(401);
  });

  it("an agent key lists and reads only its own sessions and the events naming it; the merchant sees a session's whole timeline", async () => {
    const first = await agent('First', 'online');
    const second = await agent('Second', 'offline');
    const start = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key: shopKey,
      body: { sessionId: 's-first', buyerId: 'b1', topic: 'presales', wantsHuman: true },
    });
    expect(start.status).toBe(201);
    expect(start.body.session).toMatchObject({ status: 'active', agentId: first.id });

    const own = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions`, { key: first.apiKey });
    expect(own.body.items.map((s: { sessionId: string }) => s.sessionId)).toEqual(['s-first']);
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions`, { key: second.apiKey })).body.items).toEqual([]);
    const asking = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions?agentId=${first.id}`, { key: second.apiKey });
    expect(asking.status).toBe(403);
    expect(asking.body.error.code).toBe('agent_forbidden');
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s-first`, { key: first.apiKey })).status).toBe(200);
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s-first`, { key: second.apiKey })).status).toBe(404);
    // The merchant filters by agent too.
    const byAgent = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions?agentId=${second.id}`, { key: shopKey });
    expect(byAgent.body.items).toEqual([]);

    const timeline = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/events?sessionId=s-first`, { key: shopKey }),
      (r) => r.body.items.length >= 2,
      'the session timeline',
    );
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(['session.opened', 'session.assigned']);
    expect(new Set(timeline.body.items.map((e: { sessionId: string }) => e.sessionId))).toEqual(new Set(['s-first']));

    const firstEvents = await call(stack.app, 'GET', `/v1/shops/${SHOP}/events`, { key: first.apiKey });
    expect(firstEvents.status).toBe(200);
    expect(firstEvents.body.items.length).toBeGreaterThan(0);
    for (const e of firstEvents.body.items) expect(e.data.agentId).toBe(first.id);
    const secondEvents = await call(stack.app, 'GET', `/v1/shops/${SHOP}/events`, { key: second.apiKey });
    for (const e of secondEvents.body.items) expect(e.data.agentId).toBe(second.id);
    // Merchant-only areas stay closed to agent keys.
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/assignment-records`, { key: first.apiKey })).status).toBe(403);
  });

  it('assignment records list manual assignments with operator and 离线留言分配, and say why a message was not taken', async () => {
    const offlineAgent = await agent('Later', 'offline');
    // Every agent offline except First (online, from the test above, capacity 3): take it offline.
    const agents = await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents`, { key: shopKey });
    for (const a of agents.body.items)
      await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${a.id}`, { key: shopKey, body: { status: 'offline' } });
    const start = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key: shopKey,
      body: { sessionId: 's-pool', buyerId: 'b2', topic: 'presales', wantsHuman: true },
    });
    expect(start.body.session.status).toBe('offline');
    const pool = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/offline-messages?status=pending`, { key: shopKey }),
      (r) => r.body.items.length === 1,
      'the pooled message',
    );
    const id = pool.body.items[0].id;
    const assign = await call(stack.app, 'POST', `/v1/shops/${SHOP}/offline-messages/assign`, {
      key: shopKey,
      body: { messageIds: [id], agentId: offlineAgent.id, operator: '店长' },
    });
    expect(assign.status).toBe(200);
    expect(assign.body.assigned).toEqual([id]);

    const records = await call(stack.app, 'GET', `/v1/shops/${SHOP}/assignment-records?kind=manual`, { key: shopKey });
    expect(records.status).toBe(200);
    expect(records.body.items[0]).toMatchObject({
      offlineMessageId: id,
      sessionId: 's-pool',
      agentId: offlineAgent.id,
      kind: 'manual',
      outcome: 'assigned',
      reason: '离线留言分配',
    });
    expect(records.body.items[0].operator).toContain('店长');
    const session = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s-pool`, { key: shopKey }),
      (r) => r.body.session.status === 'active',
      'the pooled session with its agent',
    );
    expect(session.body.session.assignmentReason).toBe('离线留言分配');
    const bad = await call(stack.app, 'GET', `/v1/shops/${SHOP}/assignment-records?kind=robot`, { key: shopKey });
    expect(bad.status).toBe(400);
  });

  it('serves the console at /console/ with a content security policy, and / leads there', async () => {
    const root = await stack.app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/console/');
    const page = await stack.app.inject({ method: 'GET', url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<div id="root">');
  });
});
