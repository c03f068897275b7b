/**
 * Service levels (docs/rules.md §10) from a scripted day on the time-skipping server, with the real
 * worker and Postgres: sessions answered at known times, a queue abandonment, a transfer, a 6 h
 * timeout and a pool session reopened the next day, across the shop's midnight. The report, read
 * from the repository and over HTTP, gives exactly the figures the script implies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { createAgent, createGroup, updateAgent } from '../../db/repositories/agents';
import { issueApiKey } from '../../db/repositories/api-keys';
import { assignManually } from '../../db/repositories/distribution';
import { saveDistributionSettings } from '../../db/repositories/distribution-settings';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../../domain/distribution';
import { transferSession } from '../../db/repositories/handoffs';
import { serviceReport } from '../../db/repositories/service-facts';
import { saveSessionSettings } from '../../db/repositories/session-settings';
import { AGENT_REPLY_TIMEOUT_MS, HOUR_MS, MINUTE_MS } from '../../domain/limits';
import { bucketOf, bucketSql } from '../../domain/service-levels';
import type { StartSessionRequest } from '../../domain/session';
import { closeConversation, leaveQueue, queryConversation, reportMessage, startConversation } from '../../temporal/session-gateway';
import type { TestDatabase } from '../support/database';
import { seedShop } from '../support/seed';
import { TEST_WEBHOOKS, type RunningWorker, type WorkflowHarness, startWorkflowHarness } from '../support/temporal';
import { until } from '../support/wait';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let worker: RunningWorker;
let harness: WorkflowHarness;
let app: FastifyInstance;

beforeAll(async () => {
  harness = await startWorkflowHarness();
  ({ env, tdb, worker } = harness);
  app = await buildApp({
    db: tdb.db,
    temporal: { client: env.client, taskQueue: worker.taskQueue },
    adminToken: 'a',
    logLevel: 'silent',
    webhooks: TEST_WEBHOOKS,
  });
});
afterAll(async () => {
  await app?.close();
  await harness?.stop();
});

const SHANGHAI_OFFSET_MS = 8 * HOUR_MS; // no daylight saving
const req = (shopId: string, sessionId: string, wantsHuman = true): StartSessionRequest => ({
  shopId,
  sessionId,
  buyerId: `buyer-${sessionId}`,
  topic: 'presales',
  wantsHuman,
  botEngaged: false,
  policy: 'current',
});

describe('a scripted day across the shop’s midnight', () => {
  it('gives exactly the figures the script implies, per day, agent and group, from the repository and the API', async () => {
    const { shopId, apiKey } = await seedShop(tdb.db, { timeZone: 'Asia/Shanghai' });
    // T0: the next 23:00 in Shanghai on the test server's clock; midnight falls an hour later.
    const now = await env.currentTimeMs();
    const t0 = Math.ceil((now + SHANGHAI_OFFSET_MS + HOUR_MS + MINUTE_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS - SHANGHAI_OFFSET_MS - HOUR_MS;
    const dayD = new Date(t0 + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
    const dayD1 = new Date(t0 + SHANGHAI_OFFSET_MS + 2 * HOUR_MS).toISOString().slice(0, 10);
    const until0 = async (offsetMs: number) => {
      const left = t0 + offsetMs - (await env.currentTimeMs());
      if (left > 0) await env.sleep(left);
    };
    const view = (id: string) => queryConversation(env.client, shopId, id);
    const iso = async () => new Date(await env.currentTimeMs()).toISOString();
    /** The agent answers `seconds` after the buyer began to wait (read from the run's agent-reply deadline). */
    const replyAfter = async (id: string, seconds: number) => {
      const v = await until(
        () => view(id),
        (x) => x.status === 'active' && x.turn === 'agent' && x.nextDeadline?.reason === 'agent_reply_timeout',
        `${id} waits for its agent`,
      );
      const since = Date.parse(v.nextDeadline!.at) - AGENT_REPLY_TIMEOUT_MS;
      const left = since + seconds * 1000 - (await env.currentTimeMs());
      if (left > 0) await env.sleep(left);
      await reportMessage(env.client, shopId, id, { from: 'agent', messageId: `${id}-a${seconds}` });
      await until(
        () => view(id),
        (x) => x.turn === 'buyer',
        `${id} answered`,
      );
    };
    const buyer = async (id: string, n: number) => {
      await reportMessage(env.client, shopId, id, { from: 'buyer', messageId: `${id}-b${n}` });
      await until(
        () => view(id),
        (x) => x.turn === 'agent',
        `${id} buyer spoke`,
      );
    };

    // The pool is the merchant's to assign here: automatic distribution would take s3 the moment 小李 comes online.
    await saveDistributionSettings(tdb.db, shopId, { ...DEFAULT_DISTRIBUTION_SETTINGS, enabled: false }, 'test');
    // Buyers who pause are not closed for idling before the script closes them.
    await saveSessionSettings(tdb.db, shopId, { buyerIdleMinutes: 360 }, 'test');
    await until0(0);
    const a = await createAgent(tdb.db, shopId, { name: '小王', capacity: 1, status: 'online' });
    const b = await createAgent(tdb.db, shopId, { name: '小李', capacity: 5, status: 'offline' });
    const everyone = await createGroup(tdb.db, shopId, { name: '全部', scopes: [], agentIds: [a.id, b.id] });
    const late = await createGroup(tdb.db, shopId, { name: '晚班', scopes: [], agentIds: [b.id] });

    // 23:00 s1 goes to 小王 at once; answered after 20.25 s, then a second reply after 40.25 s; closed at 23:05.
    await startConversation(env.client, worker.taskQueue, req(shopId, 's1'));
    await replyAfter('s1', 20.25);
    await until0(60_000);
    await buyer('s1', 1);
    await replyAfter('s1', 40.25);
    // 23:02:00.75 s2 and 23:02:30.75 s3 queue behind 小王's one seat; s3 gives up at 23:03.
    await until0(120_750);
    await startConversation(env.client, worker.taskQueue, req(shopId, 's2'));
    await until0(150_750);
    await startConversation(env.client, worker.taskQueue, req(shopId, 's3'));
    expect((await view('s3')).status).toBe('queued');
    await until0(180_000);
    await leaveQueue(env.client, shopId, 's3');
    await until0(300_000);
    await closeConversation(env.client, shopId, 's1', { by: 'agent' });
    // The freed seat takes s2 (queued 179.25 s); 小王 answers it after 30.25 s.
    await replyAfter('s2', 30.25);
    // 23:06 小李 comes online; 23:07 s2 is transferred to them; the buyer writes at 23:08, 小李 answers after 50.25 s.
    await until0(6 * MINUTE_MS);
    await updateAgent(tdb.db, shopId, b.id, { status: 'online' }, await iso());
    await until0(7 * MINUTE_MS);
    await transferSession(tdb.db, { shopId, sessionId: 's2', target: { toAgentId: b.id }, note: null, operator: 'test', at: await iso() });
    await until(
      () => view('s2'),
      (v) => v.agentId === b.id,
      's2 follows the transfer',
    );
    await until0(8 * MINUTE_MS);
    await buyer('s2', 1);
    await replyAfter('s2', 50.25);

    // After midnight: 00:05 the buyer closes s2; 00:10 s4 goes to 小王 and nobody answers it for 6 h.
    await until0(65 * MINUTE_MS);
    await closeConversation(env.client, shopId, 's2', { by: 'buyer' });
    await until0(70 * MINUTE_MS);
    await startConversation(env.client, worker.taskQueue, req(shopId, 's4'));
    expect((await view('s4')).agentId).toBe(a.id);
    // 00:20 the merchant assigns s3's offline message to 小李; it is answered after 15.25 s and closed at 00:30.
    await until0(80 * MINUTE_MS);
    const [message] = await tdb.db('offline_messages').where({ shop_id: shopId, session_id: 's3' });
    await assignManually(tdb.db, { shopId, messageIds: [message.id], agentId: b.id, operator: 'owner', at: await iso() });
    await replyAfter('s3', 15.25);
    await until0(90 * MINUTE_MS);
    await closeConversation(env.client, shopId, 's3', { by: 'agent' });
    // 06:10 s4 closes by the 6 h rule.
    await until0(70 * MINUTE_MS + AGENT_REPLY_TIMEOUT_MS + MINUTE_MS);
    await until(
      () => view('s4'),
      (v) => v.status === 'closed',
      's4 timed out',
    );
    expect((await view('s4')).closeReason).toBe('agent_reply_timeout');

    const report = async (groupBy: 'day' | 'agent' | 'group') => serviceReport(tdb.db, { shopId, fromDay: dayD, toDay: dayD1, groupBy });
    const byDay = await report('day');
    expect(byDay.rows.map((r) => r.key)).toEqual([dayD, dayD1]);
    const [d, d1] = byDay.rows;

    // Exact: counts, percentiles (whole seconds) and shares; the script's times sit a quarter second
    // past the whole second, so the run's processing latency cannot move a floor. Averages carry that
    // latency, which the time-skipping server lets run in real time while activities work: within
    // 3 s (1 s was exceeded once on a CI machine busy with the short drill beside it).
    const close = (actual: number | null, expected: number) => expect(Math.abs(actual! - expected)).toBeLessThan(3);
    expect(d).toMatchObject({
      sessionsServed: 3, // s1 → 小王, s2 → 小王 from the queue, s2 → 小李 by transfer
      firstResponse: { count: 3, p50Seconds: 30, p90Seconds: 50, within30sShare: 0.6667, within3minShare: 1 },
      responses: 4,
      queueWait: { served: 1, p50Seconds: 179, p90Seconds: 179 },
      abandoned: { leftQueue: 1, queueTimeout: 0 },
      agentReplyTimeouts: 0,
      offlineMessages: { created: 1, assignedAuto: 0, assignedManual: 0 },
      transfers: 1,
      reroutes: 0,
    });
    close(d.avgTimeToHumanSeconds, (0 + 179.25) / 2);
    close(d.avgResponseSeconds, (20.25 + 40.25 + 30.25 + 50.25) / 4);
    close(d.avgHandleSeconds, 300); // s1
    expect(d1).toMatchObject({
      sessionsServed: 2, // s4 → 小王, s3 → 小李 from the pool
      firstResponse: { count: 1, p50Seconds: 15, p90Seconds: 15, within30sShare: 1, within3minShare: 1 },
      responses: 1,
      queueWait: { served: 0, p50Seconds: null, p90Seconds: null },
      abandoned: { leftQueue: 0, queueTimeout: 0 },
      agentReplyTimeouts: 1,
      offlineMessages: { created: 0, assignedAuto: 0, assignedManual: 1 },
      transfers: 0,
    });
    // s3 first wanted a human when it queued at 23:02:30.75 and first met one at 00:20.
    close(d1.avgTimeToHumanSeconds, (0 + (80 * 60 - 150.75)) / 2);
    close(d1.avgResponseSeconds, 15.25);
    // s2 with 小李 (00:05 − 23:07), s3 with 小李 (00:30 − 00:20), s4 with 小王 (6 h).
    close(d1.avgHandleSeconds, (58 * 60 + 600 + 6 * 3600) / 3);

    const byAgent = await report('agent');
    expect(byAgent.rows.map((r) => [r.key, r.label])).toEqual(
      [
        [a.id, '小王'],
        [b.id, '小李'],
      ].sort(),
    );
    const rowOf = <T extends { key: string }>(rows: T[], key: string): T => rows.find((r) => r.key === key)!;
    expect(rowOf(byAgent.rows, a.id)).toMatchObject({
      sessionsServed: 3,
      firstResponse: { count: 2, p50Seconds: 20, p90Seconds: 30 },
      responses: 3,
      queueWait: { served: 1, p50Seconds: 179 },
      agentReplyTimeouts: 1,
      transfers: 1,
      offlineMessages: { created: 0, assignedManual: 0 },
    });
    expect(rowOf(byAgent.rows, b.id)).toMatchObject({
      sessionsServed: 2,
      firstResponse: { count: 2, p50Seconds: 15, p90Seconds: 50 },
      responses: 2,
      agentReplyTimeouts: 0,
      transfers: 0,
      offlineMessages: { assignedManual: 1 },
    });
    // The whole range is the sum of its days.
    expect(byDay.totals).toMatchObject({
      sessionsServed: 5,
      firstResponse: { count: 4, p50Seconds: 20, p90Seconds: 50, within30sShare: 0.75 },
      abandoned: { leftQueue: 1 },
      agentReplyTimeouts: 1,
      transfers: 1,
    });
    const byGroup = await report('group');
    expect(rowOf(byGroup.rows, everyone.id)).toMatchObject({ sessionsServed: 5, firstResponse: { count: 4 } });
    expect(rowOf(byGroup.rows, late.id)).toMatchObject({ sessionsServed: 2, firstResponse: { count: 2, p50Seconds: 15 } });

    // The API answers the same figures; an agent's key sees only its own.
    const http = await app.inject({
      method: 'GET',
      url: `/v1/shops/${shopId}/reports/service?from=${dayD}&to=${dayD1}&groupBy=day`,
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(http.statusCode).toBe(200);
    expect(http.json()).toEqual({ shopId, timeZone: 'Asia/Shanghai', from: dayD, to: dayD1, groupBy: 'day', ...byDay });
    const agentKey = await issueApiKey(tdb.db, shopId, 'agent', b.id);
    const own = await app.inject({
      method: 'GET',
      url: `/v1/shops/${shopId}/reports/service?from=${dayD}&to=${dayD1}&groupBy=agent`,
      headers: { authorization: `Bearer ${agentKey}` },
    });
    expect(own.json().rows.map((r: { key: string }) => r.key)).toEqual([b.id]);
    expect(own.json().totals.sessionsServed).toBe(2);
    // A range the calendar or the bound refuses is a 400 in the error shape, never a 500.
    for (const q of ['from=9999-12-30', `from=${dayD1}&to=${dayD}`, 'from=2026-01-01&to=2026-12-01', 'from=2026-02-30']) {
      const bad = await app.inject({
        method: 'GET',
        url: `/v1/shops/${shopId}/reports/service?${q}`,
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect([q, bad.statusCode, bad.json().error.code]).toEqual([q, 400, q === 'from=2026-02-30' ? 'invalid_request' : 'invalid_range']);
    }
  }, 240_000);

  it('the rollup buckets in SQL exactly as the domain does', async () => {
    const values = [0, 0.4, 29.99, 30, 179.25, 599.99, 600, 615, 3_599.9, 3_600, 21_600, 86_399, 86_400, 1e7];
    const { rows } = await tdb.db.raw(
      `SELECT ${bucketSql('v')} AS b FROM unnest(CAST(? AS float8[])) WITH ORDINALITY AS t(v, i) ORDER BY i`,
      [values],
    );
    expect(rows.map((r: { b: number }) => r.b)).toEqual(values.map(bucketOf));
  });
});
