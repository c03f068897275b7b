/**
 * The distribution engine against a real Postgres: the examples of docs/rules.md §3.2, conditions, caps, scope,
 * skips, idempotent slots, dry runs, and manual vs automatic assignment racing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createGroup } from '../../db/repositories/agents';
import {
  assignManually,
  dailyAutoAssignedCounts,
  distributeOfflineMessages,
  getDistributionRun,
  type DistributionRequest,
} from '../../db/repositories/distribution';
import { DEFAULT_DISTRIBUTION_SETTINGS, type DistributionSettings } from '../../domain/distribution';
import { HOUR_MS } from '../../domain/limits';
import type { Db } from '../../db/connection';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

const NOW = '2026-11-21T10:00:00.000Z';

/** `count` pool messages (with their sessions), one second apart, the newest `ageMs` before NOW. */
async function seedPool(
  db: Db,
  shopId: string,
  count: number,
  opts: { topic?: string; wantsHuman?: boolean; ageMs?: number; prefix?: string } = {},
): Promise<void> {
  const newest = Date.parse(NOW) - (opts.ageMs ?? 60_000);
  const prefix = opts.prefix ?? opts.topic ?? 'm';
  await db.raw(
    `INSERT INTO sessions (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, policy, settings_version, settings_snapshot, status, created_at)
     SELECT ?, ? || i, ? || i, ?, ?, true, 'current', 0, '{"settingsVersion":0,"policy":"current","buyerIdleMinutes":20,"agentReplyTimeoutMs":21600000,"queueTimeoutMs":86400000}', 'offline',
            to_timestamp((?::bigint - (?::int - i) * 1000) / 1000.0)
     FROM generate_series(1, ?) AS i`,
    [shopId, `${prefix}-`, `buyer-${prefix}-`, opts.topic ?? 'presales', opts.wantsHuman ?? true, newest, count, count],
  );
  await db.raw(
    `INSERT INTO offline_messages (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, origin, created_at)
     SELECT shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, 'no_agent_online', created_at
     FROM sessions WHERE shop_id = ? AND session_id LIKE ?`,
    [shopId, `${prefix}-%`],
  );
}

async function onlineAgents(shopId: string, n: number, prefix: string, capacity = 5) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await createAgent(tdb.db, shopId, { name: `${prefix}${i}`, capacity, status: 'online', id: `${shopId}-${prefix}${i}` })).id);
  return ids;
}

let keys = 0;
function request(shopId: string, settings: Partial<DistributionSettings>, extra: Partial<DistributionRequest> = {}): DistributionRequest {
  const runKey = extra.slot ? `slot:${extra.slot}` : `test:${++keys}`;
  return {
    shopId,
    trigger: 'manual',
    slot: null,
    runKey,
    at: NOW,
    settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, ...settings },
    settingsVersion: 1,
    ...extra,
  };
}

describe('docs/rules.md §3.2 examples', () => {
  it('cap 100 with 20 online → at most 2000 of 5000 eligible, the newest 2000', async () => {
    const { shopId } = await seedShop(tdb.db);
    await onlineAgents(shopId, 20, 'a');
    await seedPool(tdb.db, shopId, 5000);
    const run = await distributeOfflineMessages(tdb.db, request(shopId, { perAgentCap: 100 }));
    expect(run).toMatchObject({ outcome: 'succeeded', eligibleCount: 5000, runLimit: 2000, assignedCount: 2000 });
    // Newest first: sessions 3001..5000 are the newest.
    const assigned: string[] = await tdb.db('offline_messages').where({ shop_id: shopId, status: 'assigned' }).pluck('session_id');
    const numbers = assigned.map((s) => Number(s.split('-').at(-1))).sort((a, b) => a - b);
    expect(numbers[0]).toBe(3001);
    expect(numbers.at(-1)).toBe(5000);
    expect(Object.values(run.perAgent)).toEqual(Array(20).fill(100));
    expect(
      await tdb.db('assignment_records').where({ shop_id: shopId, operator: '系统自动分配', reason: '离线留言分配' }).count({ n: '*' }),
    ).toEqual([{ n: 2000 }]);
  });

  it('cap 10, routing rules, 6 pre-sales + 4 after-sales online, 200 pre-sales messages → 100, all to pre-sales', async () => {
    const { shopId } = await seedShop(tdb.db);
    const pre = await onlineAgents(shopId, 6, 'pre');
    const after = await onlineAgents(shopId, 4, 'after');
    await createGroup(tdb.db, shopId, { name: 'Pre', scopes: ['presales'], agentIds: pre });
    await createGroup(tdb.db, shopId, { name: 'After', scopes: ['aftersales'], agentIds: after });
    await seedPool(tdb.db, shopId, 200, { topic: 'presales' });
    const run = await distributeOfflineMessages(tdb.db, request(shopId, { perAgentCap: 10, target: { kind: 'routing_rules' } }));
    expect(run).toMatchObject({ onlineAgents: 10, runLimit: 100, eligibleCount: 200, assignedCount: 100 });
    expect(Object.keys(run.perAgent).sort()).toEqual([...pre].sort());
    expect(Object.values(run.perAgent).reduce((a, b) => a + b)).toBe(100);
    expect(Math.max(...Object.values(run.perAgent)) - Math.min(...Object.values(run.perAgent))).toBeLessThanOrEqual(1);
    const loads = await tdb.db('agents').whereIn('id', pre).pluck('active_sessions');
    expect(loads.reduce((a: number, b: number) => a + b)).toBe(100);
  });
});

describe('conditions and records', () => {
  it('too few online agents: assigns nothing, recorded with the reason', async () => {
    const { shopId } = await seedShop(tdb.db);
    await onlineAgents(shopId, 2, 'a');
    await createAgent(tdb.db, shopId, { name: 'break', capacity: 5, status: 'suspended' });
    await seedPool(tdb.db, shopId, 10);
    const run = await distributeOfflineMessages(tdb.db, request(shopId, { minOnlineAgents: 3 }, { trigger: 'scheduled', slot: NOW }));
    expect(run).toMatchObject({ outcome: 'failed', failureReason: 'insufficient_online_agents', assignedCount: 0, onlineAgents: 2 });
    const row = await tdb.db('distribution_runs').where({ id: run.id }).first();
    expect(row).toMatchObject({ outcome: 'failed', failure_reason: 'insufficient_online_agents', trigger: 'scheduled', assigned_count: 0 });
    expect(row.settings.minOnlineAgents).toBe(3);
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' })).toHaveLength(10);
  });

  it('average pending above the maximum: assigns nothing, recorded', async () => {
    const { shopId } = await seedShop(tdb.db);
    const [a, b] = await onlineAgents(shopId, 2, 'a');
    await tdb.db('agents').where({ id: a }).update({ active_sessions: 4 });
    await tdb.db('agents').where({ id: b }).update({ active_sessions: 3 });
    await seedPool(tdb.db, shopId, 5);
    const failed = await distributeOfflineMessages(tdb.db, request(shopId, { maxAvgPending: 3 }));
    expect(failed).toMatchObject({ outcome: 'failed', failureReason: 'avg_pending_exceeded', avgPending: 3.5, assignedCount: 0 });
    // The record keeps what the run saw.
    expect(await getDistributionRun(tdb.db, shopId, failed.id!)).toMatchObject({
      onlineAgents: 2,
      avgPending: 3.5,
      failureReason: 'avg_pending_exceeded',
    });
    const ok = await distributeOfflineMessages(tdb.db, request(shopId, { maxAvgPending: 3.5 }));
    expect(ok).toMatchObject({ outcome: 'succeeded', assignedCount: 5 });
  });

  it('scope: human-requested only, or everything; never older than 24 h', async () => {
    const { shopId } = await seedShop(tdb.db);
    await onlineAgents(shopId, 1, 'a', 50);
    await seedPool(tdb.db, shopId, 3, { prefix: 'human', wantsHuman: true });
    await seedPool(tdb.db, shopId, 4, { prefix: 'bot', wantsHuman: false });
    await seedPool(tdb.db, shopId, 2, { prefix: 'old', wantsHuman: true, ageMs: 25 * HOUR_MS });
    const dry = await distributeOfflineMessages(tdb.db, request(shopId, { scope: 'human_requested' }, { dryRun: true }));
    expect(dry).toMatchObject({ trigger: 'dry_run', eligibleCount: 3, assignedCount: 3, id: null });
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' })).toHaveLength(9);
    expect(await tdb.db('distribution_runs').where({ shop_id: shopId })).toHaveLength(0);
    const run = await distributeOfflineMessages(tdb.db, request(shopId, { scope: 'all' }));
    expect(run).toMatchObject({ eligibleCount: 7, assignedCount: 7 });
    const left: string[] = await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' }).pluck('session_id');
    expect(left.sort()).toEqual(['old-1', 'old-2']);
  });

  it('a buyer who already reached a human is skipped and recorded so', async () => {
    const { shopId } = await seedShop(tdb.db);
    const [agent] = await onlineAgents(shopId, 1, 'a');
    await seedPool(tdb.db, shopId, 3);
    // buyer-m-2 came back and was served live after leaving the message.
    await tdb.db('sessions').insert({
      shop_id: shopId,
      session_id: 'live',
      buyer_id: 'buyer-m-2',
      topic: 'presales',
      policy: 'current',
      settings_version: 0,
      settings_snapshot: '{}',
      status: 'active',
      agent_id: agent,
      assigned_at: NOW,
    });
    const run = await distributeOfflineMessages(tdb.db, request(shopId, {}));
    expect(run).toMatchObject({ skippedCount: 1, eligibleCount: 2, assignedCount: 2 });
    const skipped = await tdb.db('offline_messages').where({ shop_id: shopId, status: 'skipped' }).first();
    expect(skipped).toMatchObject({ session_id: 'm-2', skip_reason: 'buyer_reached_human' });
    expect(await tdb.db('assignment_records').where({ shop_id: shopId, outcome: 'skipped' }).first()).toMatchObject({
      reason: 'buyer_reached_human',
      run_id: run.id,
    });
  });

  it('a scheduled slot runs once: a retry returns the same run and assigns nothing more', async () => {
    const { shopId } = await seedShop(tdb.db);
    await onlineAgents(shopId, 1, 'a', 50);
    await seedPool(tdb.db, shopId, 5);
    const req = request(shopId, { perAgentCap: 2 }, { trigger: 'scheduled', slot: NOW });
    const first = await distributeOfflineMessages(tdb.db, req);
    const again = await distributeOfflineMessages(tdb.db, req);
    expect(first.assignedCount).toBe(2);
    expect(again).toMatchObject({ id: first.id, assignedCount: 2, onlineAgents: 1, runLimit: 2 });
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'assigned' })).toHaveLength(2);
    expect(await tdb.db('distribution_runs').where({ shop_id: shopId })).toHaveLength(1);
    expect(await tdb.db('outbox').where({ shop_id: shopId, kind: 'offline_assigned' })).toHaveLength(2);
  });

  it('counts auto-assigned messages per shop-local day', async () => {
    // NOW is 18:00 in Shanghai; a second run 7 h later falls on the next Shanghai day (01:00).
    const { shopId } = await seedShop(tdb.db, { timeZone: 'Asia/Shanghai' });
    await onlineAgents(shopId, 1, 'a', 50);
    await seedPool(tdb.db, shopId, 4);
    await distributeOfflineMessages(tdb.db, request(shopId, {}, { at: NOW }));
    const later = new Date(Date.parse(NOW) + 7 * 3_600_000).toISOString();
    await seedPool(tdb.db, shopId, 3, { ageMs: -7 * 3_600_000 + 60_000, prefix: 'late' });
    await distributeOfflineMessages(tdb.db, request(shopId, {}, { at: later }));
    const counts = await dailyAutoAssignedCounts(tdb.db, shopId, 'Asia/Shanghai', 7, new Date(later));
    expect(counts).toEqual([
      { day: '2026-11-22', autoAssigned: 3 },
      { day: '2026-11-21', autoAssigned: 4 },
    ]);
    // Days before the window, or runs after the instant asked about, are not counted.
    expect(await dailyAutoAssignedCounts(tdb.db, shopId, 'Asia/Shanghai', 7, new Date(NOW))).toEqual([
      { day: '2026-11-21', autoAssigned: 4 },
    ]);
  });
});

describe('manual assignment', () => {
  it('assigns chosen messages to the agent with the merchant as operator; refuses what is gone', async () => {
    const { shopId } = await seedShop(tdb.db);
    const [agent] = await onlineAgents(shopId, 1, 'a');
    await seedPool(tdb.db, shopId, 3);
    const ids: number[] = await tdb.db('offline_messages').where({ shop_id: shopId }).orderBy('id').pluck('id');
    const first = await assignManually(tdb.db, { shopId, messageIds: ids.slice(0, 2), agentId: agent, operator: 'owner@shop', at: NOW });
    expect(first).toEqual({ assigned: ids.slice(0, 2), notAssigned: [] });
    const second = await assignManually(tdb.db, { shopId, messageIds: ids, agentId: agent, operator: 'owner@shop', at: NOW });
    expect(second.assigned).toEqual([ids[2]]);
    expect(second.notAssigned.map((x) => x.id)).toEqual(ids.slice(0, 2));
    const records = await tdb.db('assignment_records').where({ shop_id: shopId, kind: 'manual' });
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.operator === 'owner@shop' && r.reason === '离线留言分配')).toBe(true);
  });

  it('manual and automatic assignment racing over the same 1000 messages assign each exactly once', async () => {
    const { shopId } = await seedShop(tdb.db);
    const agents = await onlineAgents(shopId, 10, 'a', 200);
    await seedPool(tdb.db, shopId, 1000);
    const ids: number[] = await tdb.db('offline_messages').where({ shop_id: shopId }).orderBy('id').pluck('id');
    const manualBatches = Array.from({ length: 10 }, (_, i) => ids.filter((_, k) => k % 10 === i));
    const results = await Promise.all([
      ...manualBatches.map((batch, i) =>
        assignManually(tdb.db, { shopId, messageIds: batch, agentId: agents[i], operator: 'owner', at: NOW }),
      ),
      distributeOfflineMessages(tdb.db, request(shopId, { perAgentCap: 100 })),
      distributeOfflineMessages(tdb.db, request(shopId, { perAgentCap: 100 }, { at: '2026-11-21T10:00:01.000Z' })),
    ]);
    const manualCount = results.slice(0, 10).reduce((n, r) => n + (r as { assigned: number[] }).assigned.length, 0);
    const autoCount = results.slice(10).reduce((n, r) => n + (r as { assignedCount: number }).assignedCount, 0);
    expect(manualCount + autoCount).toBe(1000);
    const [{ n: records }] = await tdb.db('assignment_records').where({ shop_id: shopId, outcome: 'assigned' }).count({ n: '*' });
    expect(records).toBe(1000);
    const [{ n: distinctMessages }] = await tdb
      .db('assignment_records')
      .where({ shop_id: shopId })
      .countDistinct({ n: 'offline_message_id' });
    expect(distinctMessages).toBe(1000);
    expect(await tdb.db('offline_messages').where({ shop_id: shopId, status: 'pending' })).toHaveLength(0);
    const load = await tdb.db('agents').where({ shop_id: shopId }).sum({ n: 'active_sessions' });
    expect(Number(load[0].n)).toBe(1000);
    expect(await tdb.db('outbox').where({ shop_id: shopId })).toHaveLength(1000);
  });
});
