/**
 * The merchant's distribution features over HTTP on the real dev server: settings (validated,
 * versioned, in the shop run's history), schedule, run-now, dry run, records, daily counts, and
 * manual assignment of pool messages that become the agent's sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../../domain/distribution';
import { HOUR_MS, MINUTE_MS } from '../../domain/limits';
import { shopWorkflowId } from '../../domain/temporal-names';
import { call, createShopViaApi, startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

let stack: Stack;
let key: string;
const SHOP = 'dist-shop';

beforeAll(async () => {
  stack = await startStack();
  key = await createShopViaApi(stack.app, SHOP, 'Asia/Shanghai');
});
afterAll(async () => stack?.stop());

/*
 * The dev server runs on the wall clock, and each shop's run fires at the :00/:30 slots of its
 * windows. So nothing here rests on when a slot falls: the settings test puts the shop's windows an
 * hour or more ahead of now; the agent-available test makes every scheduled run fail and counts only
 * its own trigger's runs; daily counts are read for the day the run recorded, not for "today".
 */
const HALF_HOUR_MS = 30 * MINUTE_MS;
const shanghai = (ms: number, parts: Intl.DateTimeFormatOptions) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', hourCycle: 'h23', ...parts }).format(ms);
/** HH:MM in Shanghai (+8 all year, no DST: its half hours are UTC half hours). */
const shanghaiTime = (ms: number) => shanghai(ms, { hour: '2-digit', minute: '2-digit' });
/** YYYY-MM-DD in Shanghai: the shop day a daily count is under. */
const shanghaiDay = (ms: number) => shanghai(ms, { year: 'numeric', month: '2-digit', day: '2-digit' });

/** Buyers arriving while nobody is online: each becomes an offline message, like in production. */
async function leaveOfflineMessages(ids: string[]): Promise<void> {
  for (const id of ids) {
    await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
      key,
      body: { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true },
    });
  }
  await until(
    () => stack.tdb.db('offline_messages').where({ shop_id: SHOP }).whereIn('session_id', ids),
    (rows) => rows.length === ids.length,
  );
}

describe('distribution settings over HTTP', () => {
  it('defaults are on; bad settings are refused with their codes and change nothing', async () => {
    const current = await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/distribution`, { key });
    expect(current.body).toMatchObject({ version: 0, settings: DEFAULT_DISTRIBUTION_SETTINGS });
    const cases: [object, string][] = [
      [{ windows: [{ start: '09:15', end: '10:00' }] }, 'window_not_on_half_hour'],
      [
        {
          windows: [
            { start: '09:00', end: '12:00' },
            { start: '11:00', end: '13:00' },
          ],
        },
        'windows_overlap',
      ],
      [{ target: { kind: 'groups', groupIds: ['ghost'] } }, 'unknown_groups'],
      [{ target: { kind: 'agents', agentIds: ['ghost'] } }, 'unknown_agents'],
      [{ target: { kind: 'agents' } }, 'invalid_target'],
      [{ target: { kind: 'groups', groupIds: [] } }, 'invalid_target'],
      [{ target: { kind: 'nobody' } }, 'invalid_target'],
      [{ minOnlineAgents: -1 }, 'invalid_number'],
      [{ perAgentCap: 1.5 }, 'invalid_number'],
    ];
    for (const [over, code] of cases) {
      const res = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/distribution`, {
        key,
        body: { settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, ...over } },
      });
      expect(res.status, code).toBe(400);
      expect(res.body.error.code).toBe(code);
    }
    const shape = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/distribution`, { key, body: { settings: { enabled: true } } });
    expect(shape.body.error.code).toBe('invalid_request');
    expect(await stack.tdb.db('distribution_settings_versions').where({ shop_id: SHOP })).toEqual([]);
  });

  it('a valid change is versioned, recorded in the shop run, and moves the schedule', async () => {
    // A 6 h window opening 60–90 min from now: its start becomes the next slot, and no slot of this shop
    // fires while the file runs (the run-now test below expects to be the only run that assigns).
    const firstSlot = Math.ceil(Date.now() / HALF_HOUR_MS) * HALF_HOUR_MS + HOUR_MS;
    const windows = [{ start: shanghaiTime(firstSlot), end: shanghaiTime(firstSlot + 6 * HOUR_MS) }];
    const before = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/schedule`, { key }),
      (r) => r.status === 200,
      'the shop run loaded',
    );
    expect(Date.parse(before.body.nextSlot)).toBeLessThan(firstSlot); // the all-day defaults: within the half hour
    const settings = { ...DEFAULT_DISTRIBUTION_SETTINGS, windows, perAgentCap: 2 };
    const res = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/distribution`, {
      key,
      body: { settings, changedBy: 'owner@shop' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ version: 1, settings });
    const schedule = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/schedule`, { key });
    expect(schedule.body.distribution.version).toBe(1);
    expect(schedule.body.nextSlot).toBe(new Date(firstSlot).toISOString());
    const history = await stack.env.client.workflow.getHandle(shopWorkflowId(SHOP)).fetchHistory();
    expect(
      history.events!.filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'updateDistributionSettings',
      ),
    ).toHaveLength(1);
  });
});

describe('runs, records and manual assignment over HTTP', () => {
  it('dry run reports without assigning; run-now assigns newest first and is recorded; daily counts follow', async () => {
    await leaveOfflineMessages(['d1', 'd2', 'd3']);
    const agentRes = await call(stack.app, 'POST', `/v1/shops/${SHOP}/agents`, { key, body: { name: 'Night', capacity: 10 } });
    const agentId = agentRes.body.agent.id;

    const noOne = await call(stack.app, 'POST', `/v1/shops/${SHOP}/distribution/dry-run`, { key, body: {} });
    expect(noOne.body).toMatchObject({ trigger: 'dry_run', outcome: 'failed', failureReason: 'insufficient_online_agents' });

    // Offline → online with a direct DB change, so the agent-available trigger does not run first.
    await stack.tdb.db('agents').where({ id: agentId }).update({ status: 'online' });
    const dry = await call(stack.app, 'POST', `/v1/shops/${SHOP}/distribution/dry-run`, { key, body: {} });
    expect(dry.body).toMatchObject({ trigger: 'dry_run', outcome: 'succeeded', eligibleCount: 3, assignedCount: 2, runLimit: 2, id: null });
    const proposed = await call(stack.app, 'POST', `/v1/shops/${SHOP}/distribution/dry-run`, {
      key,
      body: { settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, perAgentCap: 10 } },
    });
    expect(proposed.body.assignedCount).toBe(3);
    expect(await stack.tdb.db('offline_messages').where({ shop_id: SHOP, status: 'pending' })).toHaveLength(3);

    const run = await call(stack.app, 'POST', `/v1/shops/${SHOP}/distribution/run-now`, { key, body: { requestedBy: 'owner' } });
    expect(run.body).toMatchObject({ trigger: 'manual', outcome: 'succeeded', assignedCount: 2, perAgent: { [agentId]: 2 } });
    // Newest first: the one left is the oldest message (the three buyers' runs raced, so not necessarily d1).
    const oldest = await stack.tdb
      .db('offline_messages')
      .where({ shop_id: SHOP })
      .whereIn('session_id', ['d1', 'd2', 'd3'])
      .orderBy('created_at')
      .first('session_id');
    const left: string[] = await stack.tdb.db('offline_messages').where({ shop_id: SHOP, status: 'pending' }).pluck('session_id');
    expect(left).toEqual([oldest.session_id]);

    const newest = (await stack.tdb.db('offline_messages').where({ shop_id: SHOP }).orderBy('created_at', 'desc').first('session_id'))
      .session_id;
    const live = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/${newest}`, { key }),
      (r) => r.body.live?.status === 'active',
    );
    expect(live.body.live.assignments[0]).toMatchObject({ agentId, reason: '离线留言分配', operator: '系统自动分配' });

    const runs = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/runs`, { key });
    expect(runs.body.items[0]).toMatchObject({ id: run.body.id, assignedCount: 2 });
    const detail = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/runs/${run.body.id}`, { key });
    expect(detail.body.records.map((r: { sessionId: string }) => r.sessionId).sort()).toEqual(
      ['d1', 'd2', 'd3'].filter((id) => id !== oldest.session_id),
    );
    expect(detail.body.records.every((r: { operator: string }) => r.operator === '系统自动分配')).toBe(true);
    // Counted on the Shanghai day the run recorded them (not "today": the file may cross midnight there).
    const daily = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/daily-counts`, { key });
    expect(daily.body.timeZone).toBe('Asia/Shanghai');
    expect(daily.body.items).toEqual([{ day: shanghaiDay(Date.parse(run.body.at)), autoAssigned: 2 }]);
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/runs/999999`, { key })).status).toBe(404);
  });

  it('manual assignment: the merchant is the operator, nothing is assigned twice, unknown ids are refused', async () => {
    const pending: number[] = await stack.tdb.db('offline_messages').where({ shop_id: SHOP, status: 'pending' }).pluck('id');
    const taken: number[] = await stack.tdb.db('offline_messages').where({ shop_id: SHOP, status: 'assigned' }).pluck('id');
    const agent = await stack.tdb.db('agents').where({ shop_id: SHOP }).first('id');
    const res = await call(stack.app, 'POST', `/v1/shops/${SHOP}/offline-messages/assign`, {
      key,
      body: { messageIds: [...pending, taken[0]], agentId: agent.id, operator: 'owner@shop' },
    });
    expect(res.status).toBe(200);
    expect(res.body.assigned).toEqual(pending);
    const holder = (await stack.tdb.db('offline_messages').where({ id: taken[0] }).first('agent_id')).agent_id;
    expect(res.body.notAssigned).toEqual([{ id: taken[0], status: 'assigned', reason: 'already_assigned', agentId: holder }]);
    // The operator is the key that made the call; the typed name only stands beside it.
    const { id: keyId, label } = await stack.tdb.db('api_keys').where({ shop_id: SHOP, kind: 'shop' }).first('id', 'label');
    const actor = `owner@shop [key ${keyId}${label ? ` "${label}"` : ''}]`;
    const record = await stack.tdb.db('assignment_records').where({ offline_message_id: pending[0] }).first();
    expect(record).toMatchObject({ kind: 'manual', reason: '离线留言分配' });
    expect(record.operator).toBe(actor);
    // Nothing left to take: a conflict, naming each message and who holds it.
    const again = await call(stack.app, 'POST', `/v1/shops/${SHOP}/offline-messages/assign`, {
      key,
      body: { messageIds: [taken[0]], agentId: agent.id },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'offline_messages_taken',
      details: [{ id: taken[0], status: 'assigned', agentId: holder }],
    });
    const manualSession = (await stack.tdb.db('offline_messages').where({ id: pending[0] }).first('session_id')).session_id;
    await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/${manualSession}`, { key }),
      (r) => r.body.live?.status === 'active',
    );

    const unknown = await call(stack.app, 'POST', `/v1/shops/${SHOP}/offline-messages/assign`, {
      key,
      body: { messageIds: [999999], agentId: agent.id },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_offline_messages');
    const otherShop = await createShopViaApi(stack.app, 'dist-other');
    const denied = await call(stack.app, 'POST', `/v1/shops/${SHOP}/offline-messages/assign`, {
      key: otherShop,
      body: { messageIds: pending, agentId: agent.id },
    });
    expect(denied.status).toBe(403);
  });

  it('an agent coming online takes pending messages in its scope at once, within its capacity', async () => {
    const shop = 'dist-event';
    const k = await createShopViaApi(stack.app, shop, 'UTC');
    // All-day windows, so the agent-available run happens whatever the hour; a scheduled slot may fire
    // on the wall clock meanwhile. A minimum of 2 online agents fails every scheduled run (it checks the
    // conditions) and leaves the agent-available run alone (it checks none, docs/rules.md §3.6).
    const put = await call(stack.app, 'PUT', `/v1/shops/${shop}/settings/distribution`, {
      key: k,
      body: { settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, minOnlineAgents: 2 } },
    });
    expect(put.status).toBe(200);
    const ids = ['e1', 'e2', 'e3'];
    for (const id of ids) {
      await call(stack.app, 'POST', `/v1/shops/${shop}/sessions`, {
        key: k,
        body: { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true },
      });
    }
    await until(
      () => stack.tdb.db('offline_messages').where({ shop_id: shop }),
      (r) => r.length === 3,
    );
    const created = await call(stack.app, 'POST', `/v1/shops/${shop}/agents`, {
      key: k,
      body: { name: 'Early bird', capacity: 2, status: 'online' },
    });
    const agentId = created.body.agent.id;
    const ofAgent = (r: { body: { items: { trigger: string }[] } }) => r.body.items.filter((x) => x.trigger === 'agent_available');
    const runs = await until(
      () => call(stack.app, 'GET', `/v1/shops/${shop}/distribution/runs`, { key: k }),
      (r) => ofAgent(r).length === 1,
    );
    expect(ofAgent(runs)).toMatchObject([{ trigger: 'agent_available', assignedCount: 2, perAgent: { [agentId]: 2 } }]);
    expect(runs.body.items.filter((x: { assignedCount: number }) => x.assignedCount > 0)).toHaveLength(1);
    expect(await stack.tdb.db('offline_messages').where({ shop_id: shop, status: 'pending' })).toHaveLength(1);
    const agent = await call(stack.app, 'GET', `/v1/shops/${shop}/agents/${agentId}`, { key: k });
    expect(agent.body.activeSessions).toBe(2);
  });

  it('a merchant moves the shop to another time zone: validated, recorded in the shop run, the next slot follows', async () => {
    const shop = 'dist-move';
    const k = await createShopViaApi(stack.app, shop, 'Asia/Shanghai');
    const bad = await call(stack.app, 'PATCH', `/v1/shops/${shop}`, { key: k, body: { timeZone: 'Mars/Olympus' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_time_zone');
    const empty = await call(stack.app, 'PATCH', `/v1/shops/${shop}`, { key: k, body: {} });
    expect(empty.status).toBe(400);
    expect((await call(stack.app, 'GET', `/v1/shops/${shop}`, { key: k })).body.timeZone).toBe('Asia/Shanghai');

    const moved = await call(stack.app, 'PATCH', `/v1/shops/${shop}`, {
      key: k,
      body: { timeZone: 'Europe/Berlin', name: 'Moved', changedBy: 'owner@shop' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: shop, name: 'Moved', timeZone: 'Europe/Berlin' });
    const schedule = await call(stack.app, 'GET', `/v1/shops/${shop}/distribution/schedule`, { key: k });
    expect(schedule.body.timeZone).toBe('Europe/Berlin');
    // Default windows: the next slot is a Berlin half hour.
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(schedule.body.nextSlot));
    expect(local).toMatch(/^\d\d:(00|30)$/);

    const history = await stack.env.client.workflow.getHandle(shopWorkflowId(shop)).fetchHistory();
    const accepted = history.events!.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'updateShopTimeZone',
    );
    expect(accepted).toHaveLength(1);
    expect(
      (await call(stack.app, 'PATCH', `/v1/shops/${shop}`, { key: await createShopViaApi(stack.app, 'dist-move-2'), body: { name: 'x' } }))
        .status,
    ).toBe(403);
  });
});
