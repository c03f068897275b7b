/**
 * Agents, groups and pools through the HTTP API on the real dev server: who may change what, and the
 * queue → seat → offline-pool flow a merchant sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createAgentViaApi, createShopViaApi, startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';
import { conversationWorkflowId } from '../../domain/temporal-names';
import { OFFLINE_ASSIGNMENT_REASON } from '../../domain/assignment';

let stack: Stack;
let shopKey: string;
let otherShopKey: string;
const SHOP = 'route-a';

beforeAll(async () => {
  stack = await startStack();
  shopKey = await createShopViaApi(stack.app, SHOP);
  otherShopKey = await createShopViaApi(stack.app, 'route-b');
});
afterAll(async () => stack?.stop());

const newAgent = (shop: string, key: string, body: object) => createAgentViaApi(stack.app, shop, key, body);

describe('agents and who may change them', () => {
  it('an agent sets its own status and capacity; not another agent, not another shop, not merchant routes', async () => {
    const me = await newAgent(SHOP, shopKey, { name: 'Me', capacity: 2 });
    const colleague = await newAgent(SHOP, shopKey, { name: 'Colleague', capacity: 2 });
    const foreign = await newAgent('route-b', otherShopKey, { name: 'Foreign', capacity: 2 });

    const own = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${me.id}`, {
      key: me.apiKey,
      body: { status: 'suspended', capacity: 4 },
    });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ status: 'suspended', capacity: 4 });

    const other = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${colleague.id}`, {
      key: me.apiKey,
      body: { status: 'online' },
    });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('agent_forbidden');

    // An agent of another shop can touch neither status nor capacity here.
    for (const body of [{ status: 'offline' }, { capacity: 0 }]) {
      const res = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${me.id}`, { key: foreign.apiKey, body });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('shop_forbidden');
    }
    const merchantOnly = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/session`, {
      key: me.apiKey,
      body: { buyerIdleMinutes: 30 },
    });
    expect(merchantOnly.status).toBe(403);
    expect(merchantOnly.body.error.code).toBe('merchant_only');
    const rename = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${me.id}`, { key: me.apiKey, body: { name: 'Boss' } });
    expect(rename.status).toBe(403);

    const after = await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents/${me.id}`, { key: shopKey });
    expect(after.body).toMatchObject({ name: 'Me', status: 'suspended', capacity: 4 });
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents/${colleague.id}`, { key: shopKey })).body.status).toBe('offline');
  });

  it('bad agent input is refused and changes nothing', async () => {
    const a = await newAgent(SHOP, shopKey, { name: 'Valid', capacity: 3 });
    for (const body of [{ capacity: -1 }, { capacity: 201 }, { capacity: 2.5 }, { status: 'busy' }, {}, { extra: 1 }]) {
      const res = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${a.id}`, { key: shopKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents/${a.id}`, { key: shopKey })).body).toMatchObject({
      capacity: 3,
      status: 'offline',
    });
    expect((await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/agt_missing`, { key: shopKey, body: { capacity: 1 } })).status).toBe(
      404,
    );
  });

  it("groups take only the shop's own agents; names are unique", async () => {
    const mine = await newAgent(SHOP, shopKey, { name: 'Grouped', capacity: 1 });
    const foreign = await newAgent('route-b', otherShopKey, { name: 'Elsewhere', capacity: 1 });
    const bad = await call(stack.app, 'POST', `/v1/shops/${SHOP}/groups`, {
      key: shopKey,
      body: { name: 'G', scopes: ['presales'], agentIds: [mine.id, foreign.id] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('unknown_agents');
    expect(await stack.tdb.db('agent_groups').where({ shop_id: SHOP, name: 'G' })).toEqual([]);

    const ok = await call(stack.app, 'POST', `/v1/shops/${SHOP}/groups`, {
      key: shopKey,
      body: { name: 'G', scopes: ['presales'], agentIds: [mine.id] },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ name: 'G', scopes: ['presales'], agentIds: [mine.id] });
    expect(
      (await call(stack.app, 'POST', `/v1/shops/${SHOP}/groups`, { key: shopKey, body: { name: 'G', scopes: ['x'] } })).body.error.code,
    ).toBe('group_exists');
    const members = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/groups/${ok.body.id}/members`, {
      key: shopKey,
      body: { agentIds: [foreign.id] },
    });
    expect(members.body.error.code).toBe('unknown_agents');
    const rescoped = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/groups/${ok.body.id}`, {
      key: shopKey,
      body: { scopes: ['presales', 'vip'] },
    });
    expect(rescoped.body.scopes).toEqual(['presales', 'vip']);
    expect((await call(stack.app, 'GET', `/v1/shops/route-b/groups`, { key: otherShopKey })).body.items).toEqual([]);
  });
});

describe('the merchant view of routing', () => {
  it('online agent takes a session, overflow queues, closing hands the seat on, everyone offline → offline pool', async () => {
    const shop = 'route-flow';
    const key = await createShopViaApi(stack.app, shop);
    const agent = await newAgent(shop, key, { name: 'Solo', capacity: 1, status: 'online' });
    const start = (sessionId: string) =>
      call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, {
        key,
        body: { sessionId, buyerId: `b-${sessionId}`, topic: 'presales', wantsHuman: true },
      });

    // The start answers with the routing outcome, so the chat backend can show the agent or the queue.
    expect((await start('first')).body.session).toMatchObject({ status: 'active', agentId: agent.id });
    expect((await start('second')).body.session).toMatchObject({ status: 'queued', agentId: null });
    const queue = await call(stack.app, 'GET', `/v1/shops/${shop}/queue`, { key });
    expect(queue.body.items).toHaveLength(1);
    expect(queue.body.items[0]).toMatchObject({ position: 1, sessionId: 'second' });

    await call(stack.app, 'POST', `/v1/shops/${shop}/sessions/first/close`, { key, body: { by: 'agent' } });
    const second = await until(
      () => call(stack.app, 'GET', `/v1/shops/${shop}/sessions/second`, { key }),
      (r) => r.body.live?.status === 'active',
    );
    expect(second.body.live.agentId).toBe(agent.id);
    expect((await call(stack.app, 'GET', `/v1/shops/${shop}/queue`, { key })).body.items).toEqual([]);
    expect((await call(stack.app, 'GET', `/v1/shops/${shop}/agents/${agent.id}`, { key })).body.activeSessions).toBe(1);

    await call(stack.app, 'PATCH', `/v1/shops/${shop}/agents/${agent.id}`, { key: agent.apiKey, body: { status: 'offline' } });
    expect((await start('third')).body.session).toMatchObject({ status: 'offline' });
    const pool = await call(stack.app, 'GET', `/v1/shops/${shop}/offline-messages?status=pending`, { key });
    expect(pool.body.items).toHaveLength(1);
    expect(pool.body.items[0]).toMatchObject({ sessionId: 'third', origin: 'no_agent_online', status: 'pending', wantsHuman: true });
    expect(
      (await call(stack.app, 'GET', `/v1/shops/${shop}/sessions?status=offline`, { key })).body.items.map(
        (s: { sessionId: string }) => s.sessionId,
      ),
    ).toEqual(['third']);
    // A pooled session was never closed: a close or 转人工 says where it waits, and changes nothing.
    for (const [path, body] of [
      ['close', { by: 'agent' }],
      ['request-human', undefined],
    ] as const) {
      const refused = await call(stack.app, 'POST', `/v1/shops/${shop}/sessions/third/${path}`, { key, body });
      expect([refused.status, refused.body.error.code]).toEqual([409, 'session_in_offline_pool']);
    }
    expect((await call(stack.app, 'GET', `/v1/shops/${shop}/sessions/third`, { key })).body.session.status).toBe('offline');
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/offline-messages`, { key: shopKey })).body.items).toEqual([]);
  });

  it('the start answers with the session exactly as its row holds it, and the place in the queue, then and when repeated', async () => {
    const shop = 'route-answer';
    const key = await createShopViaApi(stack.app, shop);
    const agent = await newAgent(shop, key, { name: 'One seat', capacity: 1, status: 'online' });
    const start = (sessionId: string, body: object = { wantsHuman: true }) =>
      call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, {
        key,
        body: { sessionId, buyerId: `b-${sessionId}`, topic: 'presales', ...body },
      });
    const row = async (sessionId: string) =>
      (await call(stack.app, 'GET', `/v1/shops/${shop}/sessions/${sessionId}`, { key })).body.session;

    const routed = await start('seated');
    expect(routed.status).toBe(201);
    expect(routed.body).toMatchObject({
      queuePosition: null,
      session: { status: 'active', agentId: agent.id, assignmentReason: expect.any(String) },
    });
    expect(routed.body.session).toEqual(await row('seated'));

    const q1 = await start('q1');
    const q2 = await start('q2');
    expect([q1.body.queuePosition, q2.body.queuePosition]).toEqual([1, 2]);
    expect(q2.body.session).toEqual(await row('q2'));

    const botOnly = await start('bot', { botEngaged: true });
    expect(botOnly.body.session).toMatchObject({ status: 'open', botEngaged: true, wantsHuman: false });
    expect(botOnly.body.session).toEqual(await row('bot'));

    // q1 is served when the seat frees; a repeated start of q2 then tells its place now.
    await call(stack.app, 'POST', `/v1/shops/${shop}/sessions/seated/close`, { key, body: { by: 'agent' } });
    await until(
      () => row('q1'),
      (s) => s.status === 'active',
    );
    const again = await until(
      () => start('q2'),
      (r) => r.body.queuePosition === 1,
    );
    expect(again.body).toMatchObject({ runId: q2.body.runId, session: { status: 'queued' } });
    // An ended session is answered from its row.
    const ended = await start('seated');
    expect(ended.body.session).toEqual(await row('seated'));
  });

  it('a pooled session records the run that waits for it; its assignment reaches that run by id, and a stale id still reaches the session', async () => {
    const shop = 'route-pool-run';
    const key = await createShopViaApi(stack.app, shop);
    const agent = await newAgent(shop, key, { name: 'Later', capacity: 5 });
    for (const sessionId of ['fresh', 'stale']) {
      const res = await call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, {
        key,
        body: { sessionId, buyerId: `b-${sessionId}`, topic: 'presales', wantsHuman: true },
      });
      expect(res.body.session.status).toBe('offline');
    }
    const poolRun = async (sessionId: string) =>
      (await stack.tdb.db('sessions').where({ shop_id: shop, session_id: sessionId }).first('pool_run_id')).pool_run_id;
    const runOf = async (sessionId: string) =>
      (await stack.env.client.workflow.getHandle(conversationWorkflowId(shop, sessionId)).describe()).runId;
    expect(await poolRun('fresh')).toBe(await runOf('fresh'));
    expect(await poolRun('stale')).toBe(await runOf('stale'));
    // As if that run had been replaced: the signal to the recorded id finds nothing and goes to the session's current run.
    await stack.tdb
      .db('sessions')
      .where({ shop_id: shop, session_id: 'stale' })
      .update({ pool_run_id: '00000000-0000-4000-8000-000000000000' });
    const staleRun = await runOf('stale');

    await call(stack.app, 'PATCH', `/v1/shops/${shop}/agents/${agent.id}`, { key: agent.apiKey, body: { status: 'online' } });
    for (const sessionId of ['fresh', 'stale']) {
      const live = await until(
        () => call(stack.app, 'GET', `/v1/shops/${shop}/sessions/${sessionId}`, { key }),
        (r) => r.body.live?.status === 'active',
      );
      expect(live.body.live).toMatchObject({
        agentId: agent.id,
        assignments: [expect.objectContaining({ agentId: agent.id, reason: OFFLINE_ASSIGNMENT_REASON })],
      });
      expect(await poolRun(sessionId)).toBeNull();
    }
    expect(await runOf('stale')).toBe(staleRun);
  });
});

describe('transfer (转接) through the API', () => {
  const SHOP_T = 'route-t';
  let key: string;
  beforeAll(async () => {
    key = await createShopViaApi(stack.app, SHOP_T);
  });
  const start = async (sessionId: string) => {
    const res = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions`, {
      key,
      body: { sessionId, buyerId: `b-${sessionId}`, topic: 'presales', wantsHuman: true },
    });
    expect(res.status).toBe(201);
    return res.body.session;
  };

  it('an agent hands its session to a colleague with a note: both loads move, the run follows, the read lists it', async () => {
    const a = await newAgent(SHOP_T, key, { name: 'A', capacity: 3, status: 'online' });
    const session = await start('tr-1');
    expect(session.agentId).toBe(a.id);
    const b = await newAgent(SHOP_T, key, { name: 'B', capacity: 3, status: 'online' });

    const res = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/tr-1/transfer`, {
      key: a.apiKey,
      body: { toAgentId: b.id, note: '买家要退货' },
    });
    expect(res.status).toBe(200);
    expect(res.body.session).toMatchObject({ agentId: b.id, status: 'active', assignmentReason: '转接' });
    expect(res.body.transfer).toMatchObject({ fromAgentId: a.id, toAgentId: b.id, note: '买家要退货', groupId: null });
    expect(res.body.transfer.operator).toContain(`agent ${a.id}`);

    const read = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP_T}/sessions/tr-1`, { key }),
      (r) => r.body.live?.agentId === b.id,
      'the run hears the transfer',
    );
    expect(read.body.transfers).toEqual([res.body.transfer]);
    const loads = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/agents`, { key });
    expect(Object.fromEntries(loads.body.items.map((x: { id: string; activeSessions: number }) => [x.id, x.activeSessions]))).toMatchObject(
      { [a.id]: 0, [b.id]: 1 },
    );

    // A's key no longer holds it: as good as absent. B's does.
    const again = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/tr-1/transfer`, { key: a.apiKey, body: { toAgentId: a.id } });
    expect([again.status, again.body.error.code]).toEqual([404, 'not_found']);
    const events = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/events?types=session.transferred`, { key });
    expect(events.body.items.map((e: { data: { toAgentId: string } }) => e.data.toAgentId)).toEqual([b.id]);

    // The assignment records list the transfer under a kind the served description names.
    const records = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/assignment-records?kind=transfer`, { key });
    expect(records.status).toBe(200);
    expect(records.body.items.map((r: { sessionId: string; agentId: string }) => [r.sessionId, r.agentId])).toEqual([['tr-1', b.id]]);
    const doc = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const kinds =
      doc.paths['/v1/shops/{shopId}/assignment-records'].get.responses['200'].content['application/json'].schema.properties.items.items
        .properties.kind.enum;
    const all = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/assignment-records`, { key });
    for (const r of all.body.items as { kind: string }[]) expect(kinds).toContain(r.kind);
  });

  it('refuses bad bodies, unavailable targets and other shops with stable codes; nothing changes', async () => {
    const a = await newAgent(SHOP_T, key, { name: 'A2', capacity: 3, status: 'online' });
    await call(stack.app, 'PATCH', `/v1/shops/${SHOP_T}/agents/${a.id}`, { key, body: { status: 'online' } });
    // Others are full or away so that routing picks A2.
    const agents = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/agents`, { key });
    for (const x of agents.body.items)
      if (x.id !== a.id) await call(stack.app, 'PATCH', `/v1/shops/${SHOP_T}/agents/${x.id}`, { key, body: { status: 'offline' } });
    const session = await start('tr-2');
    expect(session.agentId).toBe(a.id);
    const off = await newAgent(SHOP_T, key, { name: 'Off', capacity: 3 });

    for (const body of [
      {},
      { toAgentId: off.id, toGroupId: 'g' },
      { toAgentId: off.id, note: 'x'.repeat(501) },
      { toAgentId: 5 },
      { toAgentId: off.id, extra: true },
    ]) {
      const res = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/tr-2/transfer`, { key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const offline = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/tr-2/transfer`, { key, body: { toAgentId: off.id } });
    expect([offline.status, offline.body.error.code, offline.body.error.details.reason]).toEqual([
      409,
      'transfer_target_unavailable',
      'offline',
    ]);
    const foreign = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/tr-2/transfer`, {
      key: otherShopKey,
      body: { toAgentId: off.id },
    });
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'shop_forbidden']);
    const missing = await call(stack.app, 'POST', `/v1/shops/${SHOP_T}/sessions/nope/transfer`, { key, body: { toAgentId: off.id } });
    expect(missing.status).toBe(404);

    const read = await call(stack.app, 'GET', `/v1/shops/${SHOP_T}/sessions/tr-2`, { key });
    expect(read.body.session.agentId).toBe(a.id);
    expect(read.body.transfers).toEqual([]);
  });
});
