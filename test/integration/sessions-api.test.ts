/**
 * End to end on the real Temporal dev server: the chat backend and the merchant drive sessions and
 * settings over HTTP; engineers find the runs by search attributes and read the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONVERSATION_MESSAGES_PER_RUN } from '../../domain/limits';
import { conversationWorkflowId, shopWorkflowId } from '../../domain/temporal-names';
import { call, createShopViaApi, startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

let stack: Stack;
let key: string;
const SHOP = 'int-shop';

beforeAll(async () => {
  stack = await startStack();
  key = await createShopViaApi(stack.app, SHOP);
});
afterAll(async () => stack?.stop());

async function visible(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.env.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

describe('sessions over HTTP on the dev server', () => {
  it('the shop workflow runs from shop creation', async () => {
    const description = await stack.env.client.workflow.getHandle(shopWorkflowId(SHOP)).describe();
    expect(description.status.name).toBe('RUNNING');
  });

  it('starts idempotently, is searchable by shop, session and status, and closes with its reason', async () => {
    const body = { sessionId: 'int-1', buyerId: 'buyer-1', topic: 'presales' };
    const first = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body });
    const again = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body });
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(first.body.workflowId).toBe(conversationWorkflowId(SHOP, 'int-1'));
    // The start answers once the session is recorded: a read right after it finds the snapshot and deadline.
    expect(first.body.session).toMatchObject({ sessionId: 'int-1', status: 'open', settingsSnapshot: { buyerIdleMinutes: 20 } });
    const rightAfter = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/int-1`, { key });
    expect(rightAfter.body.live.nextDeadline.reason).toBe('agent_reply_timeout');

    const open = await until(
      () => visible(`ShopId = '${SHOP}' AND SessionId = 'int-1' AND SessionStatus = 'open'`),
      (ids) => ids.length === 1,
    );
    expect(open).toEqual([conversationWorkflowId(SHOP, 'int-1')]);

    expect(
      (await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/int-1/messages`, { key, body: { from: 'agent', messageId: 'm1' } }))
        .status,
    ).toBe(202);
    const live = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/int-1`, { key }),
      (r) => r.body.live?.turn === 'buyer',
    );
    expect(live.body.session).toMatchObject({ sessionId: 'int-1', status: 'open', settingsSnapshot: { buyerIdleMinutes: 20 } });
    expect(live.body.live.nextDeadline.reason).toBe('buyer_idle_timeout');
    expect(Date.parse(live.body.live.nextDeadline.at) - Date.parse(live.body.live.lastAgentMessageAt)).toBe(20 * 60_000);

    const closed = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/int-1/close`, { key, body: { by: 'buyer' } });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closeReason: 'closed_by_buyer' });

    const closedRuns = await until(
      () => visible(`ShopId = '${SHOP}' AND SessionStatus = 'closed'`),
      (ids) => ids.includes(conversationWorkflowId(SHOP, 'int-1')),
    );
    expect(closedRuns).toContain(conversationWorkflowId(SHOP, 'int-1'));

    const list = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions?status=closed`, { key });
    expect(list.body.items.map((s: { sessionId: string }) => s.sessionId)).toContain('int-1');
    const late = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/int-1/messages`, { key, body: { from: 'buyer' } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('session_not_live');
    const restart = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body });
    expect(restart.body.runId).toBe(first.body.runId);
  });

  it('a settings change goes through the shop workflow, is versioned, and only new sessions take it', async () => {
    const oldStart = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key,
      body: { sessionId: 'int-old', buyerId: 'b', topic: 'presales' },
    });
    expect(oldStart.body.session.settingsSnapshot.buyerIdleMinutes).toBe(20);

    const put = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/session`, {
      key,
      body: { buyerIdleMinutes: 45, changedBy: 'owner@shop' },
    });
    expect(put.status).toBe(200);
    const { id: keyId, label } = await stack.tdb.db('api_keys').where({ shop_id: SHOP, kind: 'shop' }).first('id', 'label');
    const actor = `owner@shop [key ${keyId}${label ? ` "${label}"` : ''}]`;
    expect(put.body).toMatchObject({ version: 1, buyerIdleMinutes: 45, changedBy: actor });
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/session`, { key })).body.version).toBe(1);

    // The history of the shop run names who changed what.
    const history = await stack.env.client.workflow.getHandle(shopWorkflowId(SHOP)).fetchHistory();
    const accepted = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1);
    const payload = accepted[0].workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads![0];
    expect(JSON.parse(Buffer.from(payload.data!).toString())).toEqual({ buyerIdleMinutes: 45, changedBy: actor });

    await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body: { sessionId: 'int-new', buyerId: 'b2', topic: 'presales' } });
    const fresh = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/int-new`, { key });
    expect(fresh.body.session.settingsSnapshot.buyerIdleMinutes).toBe(45);
    const old = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/int-old`, { key });
    expect(old.body.session.settingsSnapshot.buyerIdleMinutes).toBe(20);
    expect(old.body.live.snapshot.buyerIdleMinutes).toBe(20);
  });

  it('handoff settings: defaults until changed, bounds refused with their codes changing nothing, omitted fields kept', async () => {
    const shop = 'int-handoff-settings';
    const k = await createShopViaApi(stack.app, shop);
    const path = `/v1/shops/${shop}/settings/session`;
    const initial = await call(stack.app, 'GET', path, { key: k });
    expect(initial.body).toMatchObject({ version: 0, agentLeft: { mode: 'reroute', graceMinutes: 5 }, firstReplyMinutes: null });

    const refused: [unknown, string][] = [
      [{ mode: 'reroute', graceMinutes: 61 }, 'invalid_agent_left_policy'],
      [{ mode: 'reroute', graceMinutes: -1 }, 'invalid_agent_left_policy'],
      [{ mode: 'reroute', graceMinutes: 2.5 }, 'invalid_agent_left_policy'],
      [{ mode: 'hand_back', graceMinutes: 5 }, 'invalid_agent_left_policy'],
      [{ mode: 'keep' }, 'invalid_agent_left_policy'],
    ];
    for (const [agentLeft, code] of refused) {
      const r = await call(stack.app, 'PUT', path, { key: k, body: { buyerIdleMinutes: 20, agentLeft } });
      expect([r.status, r.body.error?.code], JSON.stringify(agentLeft)).toEqual([400, code]);
    }
    for (const firstReplyMinutes of [0, 61, 1.5, '3']) {
      const r = await call(stack.app, 'PUT', path, { key: k, body: { buyerIdleMinutes: 20, firstReplyMinutes } });
      expect([r.status, r.body.error?.code], String(firstReplyMinutes)).toEqual([400, 'invalid_first_reply_minutes']);
    }
    expect((await call(stack.app, 'GET', path, { key: k })).body).toEqual(initial.body);

    // Both ends of each range are accepted.
    const set = await call(stack.app, 'PUT', path, {
      key: k,
      body: { buyerIdleMinutes: 20, agentLeft: { mode: 'reroute', graceMinutes: 60 }, firstReplyMinutes: 1 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ version: 1, agentLeft: { mode: 'reroute', graceMinutes: 60 }, firstReplyMinutes: 1 });
    // Omitted: unchanged; null turns first reply off again.
    const kept = await call(stack.app, 'PUT', path, { key: k, body: { buyerIdleMinutes: 30 } });
    expect(kept.body).toMatchObject({
      version: 2,
      buyerIdleMinutes: 30,
      agentLeft: { mode: 'reroute', graceMinutes: 60 },
      firstReplyMinutes: 1,
    });
    const off = await call(stack.app, 'PUT', path, {
      key: k,
      body: { buyerIdleMinutes: 30, agentLeft: { mode: 'keep', graceMinutes: 0 }, firstReplyMinutes: null },
    });
    expect(off.body).toMatchObject({ version: 3, agentLeft: { mode: 'keep', graceMinutes: 0 }, firstReplyMinutes: null });
    // A session started now carries the first-reply minutes in its snapshot.
    await call(stack.app, 'PUT', path, { key: k, body: { buyerIdleMinutes: 30, firstReplyMinutes: 60 } });
    const started = await call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, {
      key: k,
      body: { sessionId: 'hs-1', buyerId: 'b', topic: 'presales' },
    });
    expect(started.body.session.settingsSnapshot).toMatchObject({ buyerIdleMinutes: 30, firstReplyMinutes: 60 });
  });

  it('messages racing the per-run limit are all counted: the run continues as new under a burst', async () => {
    const body = { sessionId: 'int-burst', buyerId: 'burst', topic: 'presales' };
    const started = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, { key, body });
    const total = CONVERSATION_MESSAGES_PER_RUN + 40;
    // Bounded bursts of 20 concurrent reports, so some land while the run continues as new.
    for (let i = 0; i < total; i += 20) {
      const burst = Array.from({ length: Math.min(20, total - i) }, (_, j) =>
        call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions/int-burst/messages`, {
          key,
          body: { from: 'buyer', messageId: `b${i + j}` },
        }),
      );
      expect((await Promise.all(burst)).map((r) => r.status)).toEqual(Array(burst.length).fill(202));
    }
    const live = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/int-burst`, { key }),
      (r) => r.body.live?.messageCount === total,
      'every message counted',
      60_000,
    );
    expect(live.body.live).toMatchObject({ status: 'open', turn: 'agent' });
    const run = await stack.env.client.workflow.getHandle(conversationWorkflowId(SHOP, 'int-burst')).describe();
    expect(run.runId).not.toBe(started.body.runId);
  }, 180_000);

  it('lists page through all sessions with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
        key,
        body: { sessionId: `page-${i}`, buyerId: `pb${i}`, topic: 'presales' },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { sessionId: string }[]; nextCursor: string | null } } = await call(
        stack.app,
        'GET',
        `/v1/shops/${SHOP}/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { key },
      );
      seen.push(...res.body.items.map((s) => s.sessionId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => id.startsWith('page-')).sort()).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
