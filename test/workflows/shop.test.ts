/**
 * The per-shop distribution schedule (docs/rules.md §3) on the time-skipping server with real Postgres:
 * half-hour slots inside windows in the shop's time zone, records of every run, assignments that
 * restart the sessions' runs, settings updates, and a crash between commit and delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createAgent, createGroup } from '../../db/repositories/agents';
import { saveDistributionSettings } from '../../db/repositories/distribution-settings';
import { claimOutbox } from '../../db/repositories/outbox';
import { DEFAULT_DISTRIBUTION_SETTINGS, type DistributionSettings } from '../../domain/distribution';
import { HOUR_MS, MINUTE_MS } from '../../domain/limits';
import { shopWorkflowId } from '../../domain/temporal-names';
import { queryShop, runDistributionNow, startShopWorkflow, updateShopTimeZone } from '../../temporal/shop-gateway';
import { closeConversation, queryConversation, startConversation } from '../../temporal/session-gateway';
import { updateDistributionSettingsUpdate } from '../../contracts/shop';
import type { TestDatabase } from '../support/database';
import { until } from '../support/wait';
import { seedShop } from '../support/seed';
import { type RunningWorker, type WorkflowHarness, startWorkflowHarness } from '../support/temporal';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: RunningWorker;
let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness();
  ({ env, tdb, worker } = harness);
});
afterAll(async () => harness?.stop());

/**
 * HH:MM in `timeZone` of the half hour `k` half-hours after the one containing `epochMs`, by local
 * wall-clock arithmetic: exact only in a zone without DST on the way (every zone used here has none).
 */
function localHalfHour(epochMs: number, timeZone: string, k: number): string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const [h, m] = f.format(new Date(epochMs)).split(':').map(Number);
  const minutes = (h * 60 + (m - (m % 30)) + k * 30 + 24 * 60) % (24 * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

async function seedPool(shopId: string, n: number, prefix = 'm'): Promise<void> {
  const now = Date.parse((await env.currentTimeMs().then((t) => new Date(t))).toISOString());
  for (let i = 1; i <= n; i++) {
    const created = new Date(now - (n - i) * 1000).toISOString();
    await tdb.db('sessions').insert({
      shop_id: shopId,
      session_id: `${prefix}${i}`,
      buyer_id: `buyer-${prefix}${i}`,
      topic: 'presales',
      wants_human: true,
      bot_engaged: false,
      policy: 'current',
      settings_version: 0,
      status: 'offline',
      created_at: created,
      message_count: 3,
      settings_snapshot: JSON.stringify({
        settingsVersion: 0,
        policy: 'current',
        buyerIdleMinutes: 20,
        agentReplyTimeoutMs: 6 * HOUR_MS,
        queueTimeoutMs: 24 * HOUR_MS,
      }),
    });
    await tdb.db('offline_messages').insert({
      shop_id: shopId,
      session_id: `${prefix}${i}`,
      buyer_id: `buyer-${prefix}${i}`,
      topic: 'presales',
      wants_human: true,
      bot_engaged: false,
      origin: 'no_agent_online',
      created_at: created,
    });
  }
}

const runsOf = (shopId: string) => tdb.db('distribution_runs').where({ shop_id: shopId }).orderBy('id');
const settings = (over: Partial<DistributionSettings>): DistributionSettings => ({ ...DEFAULT_DISTRIBUTION_SETTINGS, ...over });

describe('the schedule', () => {
  it('fires at every :00 and :30 inside the window, both ends included, in the shop time zone', async () => {
    const zone = 'Asia/Kathmandu'; // UTC+5:45: local half hours are not UTC half hours
    const { shopId } = await seedShop(tdb.db, { timeZone: zone });
    const now = await env.currentTimeMs();
    const start = localHalfHour(now, zone, 2);
    const end = localHalfHour(now, zone, 3);
    await saveDistributionSettings(tdb.db, shopId, settings({ windows: [{ start, end }] }), 'test');
    await createAgent(tdb.db, shopId, { name: 'A', capacity: 5, status: 'online' });
    await startShopWorkflow(env.client, worker.taskQueue, shopId);

    const view = await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    expect(view!.timeZone).toBe(zone);
    const first = Date.parse(view!.nextSlot!);
    expect(first).toBeGreaterThan(now + 30 * MINUTE_MS);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(first)).toBe(
      start,
    );

    await env.sleep(first + 31 * MINUTE_MS - now);
    const runs = await until(
      () => runsOf(shopId),
      (r) => r.length === 2,
      'two runs',
    );
    expect(runs.map((r) => r.slot.getTime())).toEqual([first, first + 30 * MINUTE_MS]);
    expect(
      runs.every((r) => r.trigger === 'scheduled' && r.outcome === 'succeeded' && r.failure_reason === null && r.eligible_count === 0),
    ).toBe(true);

    // Nothing outside the window; the same two slots the next day.
    await env.sleep(24 * HOUR_MS);
    const nextDay = await until(
      () => runsOf(shopId),
      (r) => r.length === 4,
      'next day',
    );
    expect(nextDay.slice(2).map((r) => r.slot.getTime())).toEqual([first + 24 * HOUR_MS, first + 24 * HOUR_MS + 30 * MINUTE_MS]);
  });

  it('a time-zone change re-plans the next slot in the new zone at once and fires there', async () => {
    // Kolkata (+5:30) has no DST, so the local half hour an hour from now exists and comes once, on any date.
    const zone = 'Asia/Kolkata';
    const { shopId } = await seedShop(tdb.db, { timeZone: 'Asia/Shanghai' });
    const now = await env.currentTimeMs();
    // A window that opens in an hour, local to Kolkata: in Shanghai (2.5 h ahead) that time of day has passed.
    const start = localHalfHour(now, zone, 2);
    const end = localHalfHour(now, zone, 3);
    await saveDistributionSettings(tdb.db, shopId, settings({ windows: [{ start, end }] }), 'test');
    await startShopWorkflow(env.client, worker.taskQueue, shopId);
    const before = await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    const beforeSlot = Date.parse(before!.nextSlot!);

    const moved = await updateShopTimeZone(env.client, worker.taskQueue, shopId, { timeZone: zone, changedBy: 'owner' });
    expect(moved).toEqual({ timeZone: zone });
    const after = await queryShop(env.client, shopId);
    expect(after.timeZone).toBe(zone);
    const slot = Date.parse(after.nextSlot!);
    expect(slot).not.toBe(beforeSlot);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(slot)).toBe(
      start,
    );
    expect(slot - now).toBeGreaterThan(30 * MINUTE_MS);
    expect(slot - now).toBeLessThanOrEqual(60 * MINUTE_MS);
    expect((await tdb.db('shops').where({ id: shopId }).first()).time_zone).toBe(zone);

    await env.sleep(slot + MINUTE_MS - (await env.currentTimeMs()));
    const [run] = await until(
      () => runsOf(shopId),
      (r) => r.length >= 1,
      'slot in the new zone',
    );
    expect(run.slot.getTime()).toBe(slot);

    const refused = await updateShopTimeZone(env.client, worker.taskQueue, shopId, { timeZone: 'Mars/Olympus', changedBy: 'owner' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((await queryShop(env.client, shopId)).timeZone).toBe(zone);
  });

  it('a window across midnight fires on both sides of it', async () => {
    const zone = 'America/Sao_Paulo';
    const { shopId } = await seedShop(tdb.db, { timeZone: zone });
    await saveDistributionSettings(tdb.db, shopId, settings({ windows: [{ start: '23:30', end: '00:30' }] }), 'test');
    // Start before the window (at 23:00 local), whatever time the earlier tests left the clock at:
    // started inside it, the slots already past would not fire.
    const nowMs = await env.currentTimeMs();
    const [h, m] = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .format(nowMs)
      .split(':')
      .map(Number);
    const minutesTo2300 = (23 * 60 - (h * 60 + m) + 24 * 60) % (24 * 60);
    if (minutesTo2300 > 0) await env.sleep(minutesTo2300 * MINUTE_MS);
    await startShopWorkflow(env.client, worker.taskQueue, shopId);
    const view = await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    const first = Date.parse(view!.nextSlot!);
    await env.sleep(first + 61 * MINUTE_MS - (await env.currentTimeMs()));
    const runs = await until(
      () => runsOf(shopId),
      (r) => r.length === 3,
      'three runs',
      90_000,
    );
    const local = runs.map((r) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(r.slot),
    );
    expect(local).toEqual(['23:30', '00:00', '00:30']);
  });
});

describe('what a run does', () => {
  it('assigns the newest first within the limit; assigned sessions restart with 离线留言分配; failures are recorded', async () => {
    const { shopId } = await seedShop(tdb.db, { timeZone: 'UTC' });
    const a = await createAgent(tdb.db, shopId, { name: 'A', capacity: 50, status: 'online' });
    const b = await createAgent(tdb.db, shopId, { name: 'B', capacity: 50, status: 'online' });
    await createGroup(tdb.db, shopId, { name: 'Pre', scopes: ['presales'], agentIds: [a.id, b.id] });
    await saveDistributionSettings(tdb.db, shopId, settings({ perAgentCap: 3 }), 'test');
    await seedPool(shopId, 10);
    await startShopWorkflow(env.client, worker.taskQueue, shopId);
    const view = await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    await env.sleep(Date.parse(view!.nextSlot!) + MINUTE_MS - (await env.currentTimeMs()));

    const [run] = await until(
      () => runsOf(shopId),
      (r) => r.length >= 1 && r[0].outcome !== 'running',
      'first run',
    );
    expect(run).toMatchObject({ outcome: 'succeeded', eligible_count: 10, assigned_count: 6, run_limit: 6 });
    const assigned: string[] = await tdb
      .db('offline_messages')
      .where({ shop_id: shopId, status: 'assigned' })
      .orderBy('session_id')
      .pluck('session_id');
    expect(assigned.sort()).toEqual(['m10', 'm5', 'm6', 'm7', 'm8', 'm9']);

    // Each assignment restarted that session's run with the agent and the offline-assignment reason.
    const live = await until(
      () => queryConversation(env.client, shopId, 'm10').catch(() => null),
      (v) => v?.status === 'active',
      'm10 live',
    );
    expect([a.id, b.id]).toContain(live!.agentId);
    expect(live!.assignments[0]).toMatchObject({ reason: '离线留言分配', operator: '系统自动分配' });
    expect(live!.nextDeadline!.reason).toBe('agent_reply_timeout');
    // The resumed run goes on counting from the session's recorded messages (seeded as 3).
    expect(live!.messageCount).toBe(3);

    // With both agents gone, the next slot fails and says why.
    await tdb.db('agents').where({ shop_id: shopId }).update({ status: 'offline' });
    await env.sleep(30 * MINUTE_MS);
    const runs = await until(
      () => runsOf(shopId),
      (r) => r.length >= 2 && r[1].outcome !== 'running',
      'second run',
    );
    expect(runs[1]).toMatchObject({ outcome: 'failed', failure_reason: 'insufficient_online_agents', assigned_count: 0 });
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' })).toHaveLength(4);
  });

  it('settings updates are validated with clear codes; a valid one is versioned and moves the schedule; run-now is recorded', async () => {
    const { shopId } = await seedShop(tdb.db, { timeZone: 'Asia/Shanghai' });
    await startShopWorkflow(env.client, worker.taskQueue, shopId);
    await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    const handle = env.client.workflow.getHandle(shopWorkflowId(shopId));
    const attempt = (s: DistributionSettings) =>
      handle.executeUpdate(updateDistributionSettingsUpdate, { args: [{ settings: s, changedBy: 'owner' }] }).then(
        () => 'ok',
        (err: WorkflowUpdateFailedError) => (err.cause as { type?: string }).type,
      );
    expect(
      await attempt(
        settings({
          windows: [
            { start: '09:00', end: '10:00' },
            { start: '09:30', end: '11:00' },
          ],
        }),
      ),
    ).toBe('windows_overlap');
    expect(await attempt(settings({ windows: [{ start: '09:10', end: '10:00' }] }))).toBe('window_not_on_half_hour');
    expect(await attempt(settings({ target: { kind: 'groups', groupIds: ['no-such-group'] } }))).toBe('unknown_groups');
    expect(await attempt(settings({ perAgentCap: -1 }))).toBe('invalid_number');
    expect(await tdb.db('distribution_settings_versions').where({ shop_id: shopId })).toHaveLength(0);

    // A window opening 1.5–2 h from now on the test server's clock, whose start is then the next slot
    // (with a fixed 03:00–03:30 it would be 03:30 from 03:00 on), and no slot fires before run-now.
    const now = await env.currentTimeMs();
    const [start, end] = [localHalfHour(now, 'Asia/Shanghai', 4), localHalfHour(now, 'Asia/Shanghai', 5)];
    expect(await attempt(settings({ windows: [{ start, end }] }))).toBe('ok');
    const view = await queryShop(env.client, shopId);
    expect(view.distribution.version).toBe(1);
    expect(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
        Date.parse(view.nextSlot!),
      ),
    ).toBe(start);

    const run = await runDistributionNow(env.client, worker.taskQueue, shopId, 'owner');
    expect(run).toMatchObject({ trigger: 'manual', outcome: 'failed', failureReason: 'insufficient_online_agents', settingsVersion: 1 });
    // Under the new settings only run-now ran (a slot of the all-day defaults may have fired before the change).
    expect((await runsOf(shopId)).filter((r) => r.settings_version === 1).map((r) => r.trigger)).toEqual(['manual']);
  });

  it('a crash after the commit and before the signals loses nothing and assigns nothing twice', async () => {
    const { shopId } = await seedShop(tdb.db, { timeZone: 'UTC' });
    // The next scheduled slot half a day away on the test server's clock: only run-now takes the messages.
    const now = await env.currentTimeMs();
    await saveDistributionSettings(
      tdb.db,
      shopId,
      settings({ windows: [{ start: localHalfHour(now, 'UTC', 24), end: localHalfHour(now, 'UTC', 24) }] }),
      'test',
    );
    await createAgent(tdb.db, shopId, { name: 'A', capacity: 50, status: 'online' });
    await seedPool(shopId, 4, 'c');
    // The relay dies right after claiming the committed rows, before sending any (a killed worker):
    // its lease runs out and the relay that is left delivers each of them, once.
    await worker.delivery.relay.stop();
    const run = await runDistributionNow(env.client, worker.taskQueue, shopId, 'owner');
    expect(run.assignedCount).toBe(4);
    const orphaned = await claimOutbox(tdb.db, 100, 1_000);
    expect(orphaned.filter((r) => r.shop_id === shopId)).toHaveLength(4);
    await worker.delivery.relay.start(worker.delivery.listener);
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      const v = await until(
        () => queryConversation(env.client, shopId, id).catch(() => null),
        (x) => x?.status === 'active',
        id,
      );
      expect(v!.assignments).toHaveLength(1);
    }
    expect((await tdb.db('outbox').where({ shop_id: shopId })).every((r) => r.attempts === 2)).toBe(true);
    expect(await tdb.db('assignment_records').where({ shop_id: shopId })).toHaveLength(4);
    expect(await tdb.db('outbox').where({ shop_id: shopId }).whereNull('delivered_at')).toHaveLength(0);
    expect((await tdb.db('agents').where({ shop_id: shopId }).first()).active_sessions).toBe(4);
  });
});

describe('event-driven distribution (docs/rules.md §3.6)', () => {
  it('a session closing frees a seat and a pending offline message goes to that agent at once, within capacity', async () => {
    const { shopId } = await seedShop(tdb.db, { timeZone: 'UTC' });
    // Event-driven runs happen inside the windows; scheduled ones at their slots. A one-slot window
    // just behind the test server's clock covers the next 29 minutes and fires again only tomorrow:
    // the only run this test sees is the one the freed seat starts.
    const now = await env.currentTimeMs();
    const slot = Math.ceil(now / (30 * MINUTE_MS)) * 30 * MINUTE_MS;
    await env.sleep(slot + MINUTE_MS - now);
    const window = { start: localHalfHour(slot, 'UTC', 0), end: localHalfHour(slot, 'UTC', 0) };
    await saveDistributionSettings(tdb.db, shopId, settings({ windows: [window] }), 'test');
    const agent = await createAgent(tdb.db, shopId, { name: 'Busy', capacity: 1, status: 'online' });
    await startShopWorkflow(env.client, worker.taskQueue, shopId);
    await until(
      () => queryShop(env.client, shopId).catch(() => null),
      (v) => v !== null,
      'shop loaded',
    );
    // The agent is full with a live session; two buyers left offline messages meanwhile.
    await startConversation(env.client, worker.taskQueue, {
      shopId,
      sessionId: 'live',
      buyerId: 'buyer-live',
      topic: 'presales',
      wantsHuman: true,
      botEngaged: false,
      policy: 'current',
    });
    await until(
      () => queryConversation(env.client, shopId, 'live'),
      (v) => v.status === 'active',
      'live assigned',
    );
    await seedPool(shopId, 2, 'e');

    await closeConversation(env.client, shopId, 'live', { by: 'agent' });
    const runs = await until(
      () => runsOf(shopId),
      (r) => r.length === 1 && r[0].outcome !== 'running',
      'agent-available run',
    );
    expect(runs[0]).toMatchObject({ trigger: 'agent_available', assigned_count: 1, run_limit: 1 });
    // The newest one, to this agent; the other still waits.
    const e2 = await until(
      () => queryConversation(env.client, shopId, 'e2').catch(() => null),
      (v) => v?.status === 'active',
      'e2 live',
    );
    expect(e2!.agentId).toBe(agent.id);
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' }).pluck('session_id')).toEqual(['e1']);
    expect((await tdb.db('agents').where({ id: agent.id }).first()).active_sessions).toBe(1);
  });
});
