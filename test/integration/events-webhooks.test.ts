/**
 * Events out (docs/rules.md §6) on the real dev server, worker and Postgres: every event type from the real
 * flows, the cursor log, SSE resuming from Last-Event-ID, signed webhook deliveries verified with the
 * standardwebhooks library, shop isolation, and webhook URLs that may not point inward.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../domain/events';
import { call, createShopViaApi, startStack, type Stack } from '../support/stack';
import { startReceiver, type Receiver } from '../support/webhook-receiver';
import { until } from '../support/wait';

let stack: Stack;
let key: string;
let otherKey: string;
let receiver: Receiver;
let base: string;
const SHOP = 'evt-a';

beforeAll(async () => {
  stack = await startStack();
  key = await createShopViaApi(stack.app, SHOP, 'UTC');
  otherKey = await createShopViaApi(stack.app, 'evt-b', 'UTC');
  receiver = await startReceiver();
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const events = async (shop = SHOP, k = key, query = '') =>
  (await call(stack.app, 'GET', `/v1/shops/${shop}/events?limit=500${query}`, { key: k })).body;

/** Reads an SSE response until `n` events arrived; answers them (id, type, data). */
async function readSse(res: Response, n: number): Promise<{ id: number; type: string; data: { seq: number; sessionId: string | null } }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: { id: number; type: string; data: { seq: number; sessionId: string | null } }[] = [];
  let buffer = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => !l.startsWith(':') && l.includes(': '))
          .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
      );
      if (fields.data) out.push({ id: Number(fields.id), type: fields.event, data: JSON.parse(fields.data) });
    }
  }
  await reader.cancel();
  return out;
}

describe('events and webhooks from the real flows', () => {
  it('a session opened, queued, assigned from the pool with 离线留言分配, closed, and every other type: logged in order and delivered signed', async () => {
    // A local receiver as the chat backend's webhook; the secret is shown once.
    const created = await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks`, {
      key,
      body: { url: receiver.url, description: 'IM backend' },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    receiver.secret = created.body.secret;
    const endpointId = created.body.endpoint.id;
    const listed = await call(stack.app, 'GET', `/v1/shops/${SHOP}/webhooks`, { key });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    const test = await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks/${endpointId}/test`, { key });
    expect(test.body).toMatchObject({ ok: true, statusCode: 204 });

    // Agent A online with one seat; s1 takes it, s2 queues behind it.
    const agent = (await call(stack.app, 'POST', `/v1/shops/${SHOP}/agents`, { key, body: { name: 'A', capacity: 1, status: 'online' } }))
      .body.agent;
    const s1 = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key,
      body: { sessionId: 's1', buyerId: 'b1', topic: 'presales', wantsHuman: true },
    });
    expect(s1.body.session).toMatchObject({ status: 'active', agentId: agent.id });
    const s2 = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key,
      body: { sessionId: 's2', buyerId: 'b2', topic: 'presales', wantsHuman: false },
    });
    expect(s2.body.queuePosition).toBeNull();
    const human = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/s2/request-human`, { key });
    expect(human.status).toBe(200);
    expect(human.body).toMatchObject({ session: { status: 'queued' }, queuePosition: 1 });
    // The buyer gives up: the queue closes it into the pool, where its run waits for an assignment.
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/s2/leave-queue`, { key });
    // The agent goes on a break, comes back; s1 closes, freeing the seat.
    await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${agent.id}`, { key, body: { status: 'suspended' } });
    await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${agent.id}`, { key, body: { status: 'online' } });
    const closed = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/s1/close`, { key, body: { by: 'agent' } });
    expect(closed.body.closeReason).toBe('closed_by_agent');
    // The pool: s2's request goes to the agent (event-driven, or by run-now), with 离线留言分配.
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/distribution/run-now`, { key });
    const live = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s2`, { key }),
      (r) => r.body.live?.status === 'active',
      's2 resumed with its agent',
    );
    expect(live.body.live.assignments.at(-1)).toMatchObject({ agentId: agent.id, reason: '离线留言分配', operator: '系统自动分配' });
    // A colleague comes online (nothing waits any more) and the merchant transfers s2 to them (转接).
    const colleague = (
      await call(stack.app, 'POST', `/v1/shops/${SHOP}/agents`, { key, body: { name: 'B', capacity: 1, status: 'online' } })
    ).body.agent;
    const moved = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/s2/transfer`, {
      key,
      body: { toAgentId: colleague.id, note: '转售后' },
    });
    expect(moved.status).toBe(200);
    // s3 takes A's freed seat; s4 and s5 queue; s4 gives up, so s5 hears its new place.
    const startHuman = (id: string) =>
      call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
        key,
        body: { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true },
      });
    expect((await startHuman('s3')).body.session).toMatchObject({ status: 'active', agentId: agent.id });
    expect((await startHuman('s4')).body.queuePosition).toBe(1);
    expect((await startHuman('s5')).body.queuePosition).toBe(2);
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/s4/leave-queue`, { key });
    const s5 = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s5`, { key });
    expect(s5.body.queue).toMatchObject({ position: 1 });
    // B leaves with no grace: s2 is re-routed at once; A is full, so it queues behind s5.
    const settings = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/session`, {
      key,
      body: { buyerIdleMinutes: 20, agentLeft: { mode: 'reroute', graceMinutes: 0 } },
    });
    expect(settings.body.agentLeft).toEqual({ mode: 'reroute', graceMinutes: 0 });
    await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${colleague.id}`, { key, body: { status: 'offline' } });
    const rerouted = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/s2`, { key }),
      (r) => r.body.session.status === 'queued',
      's2 re-routed to the queue',
    );
    expect(rerouted.body.queue.position).toBe(2);

    const log = (await events()).items as { seq: number; type: string; sessionId: string | null; data: Record<string, unknown> }[];
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    for (const type of EVENT_TYPES) expect(log.map((e) => e.type)).toContain(type);
    const ofS2 = log.filter((e) => e.sessionId === 's2').map((e) => e.type);
    expect(ofS2).toEqual([
      'session.opened',
      'session.queued',
      'session.closed',
      'offline_message.created',
      'session.assigned',
      'session.transferred',
      'session.queued',
      'session.rerouted',
    ]);
    expect(log.find((e) => e.type === 'session.transferred')!.data).toMatchObject({
      fromAgentId: agent.id,
      toAgentId: colleague.id,
      note: '转售后',
    });
    expect(log.find((e) => e.type === 'session.rerouted')!.data).toMatchObject({
      sessionId: 's2',
      fromAgentId: colleague.id,
      reason: 'agent_left',
      outcome: 'queued',
      position: 2,
    });
    expect(log.filter((e) => e.type === 'session.queue_position_changed').map((e) => [e.sessionId, e.data.position])).toEqual([['s5', 1]]);
    expect(log.find((e) => e.type === 'session.closed' && e.sessionId === 's2')!.data).toMatchObject({
      reason: 'left_queue',
      toOfflinePool: true,
    });
    expect(log.find((e) => e.type === 'session.assigned' && e.sessionId === 's2')!.data).toMatchObject({
      reason: '离线留言分配',
      kind: 'auto',
      agentId: agent.id,
    });
    expect(log.filter((e) => e.type === 'agent.status_changed').map((e) => e.data.to)).toEqual([
      'online',
      'suspended',
      'online',
      'online',
      'offline',
    ]);

    // Filter by type and page by cursor.
    const closes = await events(SHOP, key, '&types=session.closed');
    expect(closes.items.map((e: { sessionId: string }) => e.sessionId)).toEqual(['s2', 's1', 's4']);
    const page = (await call(stack.app, 'GET', `/v1/shops/${SHOP}/events?after=2&limit=2`, { key })).body;
    expect(page).toMatchObject({ nextCursor: 4, hasMore: true });
    expect(page.items.map((e: { seq: number }) => e.seq)).toEqual([3, 4]);

    // The receiver got every logged event, each verified, each session's in order, each once.
    const received = await until(
      async () => receiver.received.filter((r) => r.event.seq !== null),
      (r) => r.length >= log.length,
      'every event delivered',
    );
    expect(receiver.rejected).toBe(0);
    expect(new Set(received.map((r) => r.event.seq)).size).toBe(log.length);
    for (const sessionId of ['s1', 's2', 's3', 's4', 's5']) {
      const seqs = received.filter((r) => r.event.sessionId === sessionId).map((r) => r.event.seq!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(received.every((r) => r.webhookId === r.event.id)).toBe(true);
    const attempts = await call(stack.app, 'GET', `/v1/shops/${SHOP}/webhooks/${endpointId}/attempts?limit=500`, { key });
    expect(attempts.body.items.filter((a: { ok: boolean }) => a.ok).length).toBeGreaterThanOrEqual(log.length);
    await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/webhooks/${endpointId}`, { key }),
      (r) => r.body.cursor === log.at(-1)!.seq,
      'cursor at the end',
    );

    // Redelivery keeps the webhook-id; a replay sends the history again.
    const again = await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks/${endpointId}/redeliver`, { key, body: { seq: 1 } });
    expect(again.body).toMatchObject({ ok: true, eventSeq: 1, webhookId: log[0] ? (await events()).items[0].id : '' });
    const before = receiver.received.length;
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks/${endpointId}/replay`, { key, body: { after: log.length - 3 } });
    await until(
      async () => receiver.received.length,
      (n) => n >= before + 3,
      'replayed',
    );
  });

  it('SSE resumes from Last-Event-ID without gaps', async () => {
    const shop = 'evt-sse';
    const k = await createShopViaApi(stack.app, shop, 'UTC');
    const headers = { authorization: `Bearer ${k}` };
    const start = (id: string) =>
      call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, { key: k, body: { sessionId: id, buyerId: `b-${id}`, topic: 't' } });
    const first = await fetch(`${base}/v1/shops/${shop}/events/stream?after=0`, { headers });
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    await start('x1');
    await start('x2');
    const got = await readSse(first, 2);
    expect(got.map((e) => e.data.sessionId)).toEqual(['x1', 'x2']);
    // Disconnected; more happens; the client comes back with the last id it saw.
    await start('x3');
    await start('x4');
    const resumed = await fetch(`${base}/v1/shops/${shop}/events/stream`, { headers: { ...headers, 'last-event-id': String(got[1].id) } });
    const rest = await readSse(resumed, 2);
    expect(rest.map((e) => e.id)).toEqual([got[1].id + 1, got[1].id + 2]);
    expect(rest.map((e) => e.data.sessionId)).toEqual(['x3', 'x4']);
    const denied = await fetch(`${base}/v1/shops/${shop}/events/stream`, { headers: { authorization: `Bearer ${otherKey}` } });
    expect(denied.status).toBe(403);
  });

  it("a shop never sees another shop's events, webhooks or attempts", async () => {
    const mine = await events(SHOP, key);
    expect(mine.items.every((e: { shopId: string }) => e.shopId === SHOP)).toBe(true);
    const theirs = await events('evt-b', otherKey);
    expect(theirs.items.every((e: { shopId: string }) => e.shopId === 'evt-b')).toBe(true);
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/events`, { key: otherKey })).status).toBe(403);
    const hooks = (await call(stack.app, 'GET', `/v1/shops/${SHOP}/webhooks`, { key })).body.items;
    const peek = await call(stack.app, 'GET', `/v1/shops/evt-b/webhooks/${hooks[0].id}`, { key: otherKey });
    expect(peek.status).toBe(404);
  });

  it('webhook URLs that resolve to private, link-local or metadata addresses are refused at registration', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://192.168.1.10/x',
      'http://169.254.169.254/latest',
      'http://[fd00::1]/x',
      'http://0.0.0.0/x',
      'http://[::ffff:10.1.2.3]/x',
    ]) {
      const res = await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks`, { key, body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('webhook_url_forbidden');
    }
    for (const url of ['ftp://example.com/x', 'http://user:pw@127.0.0.1/x']) {
      const res = await call(stack.app, 'POST', `/v1/shops/${SHOP}/webhooks`, { key, body: { url } });
      expect(res.status, url).toBe(400);
    }
  });
});
