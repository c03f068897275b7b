/**
 * `npm run bench:costs [-- --n 40 --shape dev|cluster]`
 *
 * What each operation costs, counted rather than timed (the capacity model in docs/production.md is
 * built on these): for N of each operation through the real HTTP API, worker and relay, the
 * Postgres statements run (pg_stat_statements, per database, idle background subtracted), and the
 * Temporal history events, workflow tasks and billable-style actions (starts, signals, updates,
 * activities and local activities, timers, search-attribute upserts) added to the runs involved.
 */
import { temporal } from '@temporalio/proto';
import { createAgent } from '../db/repositories/agents';
import { createShop } from '../db/repositories/shops';
import { createDb } from '../db/connection';
import { conversationWorkflowId, shopWorkflowId } from '../domain/temporal-names';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../domain/distribution';
import { startShopWorkflow } from '../temporal/shop-gateway';
import { agentAvailableSignal } from '../contracts/shop';
import { openSession } from '../db/repositories/sessions';
import { routeSession } from '../db/repositories/routing';
import { appendEvent } from '../db/repositories/events';
import { BENCH_REAL_QUEUE, arg, machineLine, runLimited, shapeLine, startBenchApi, startBenchInfra, startBenchWorkers } from './support';

const N = arg('n', 40);
const EventType = temporal.api.enums.v1.EventType;
/** History events that Temporal Cloud bills as an action (close enough for a capacity model). */
const ACTION_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

interface Cost {
  label: string;
  appStatements: number;
  temporalStatements: number | null;
  transactions: number;
  events: number;
  tasks: number;
  actions: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const infra = await startBenchInfra({
    withTemporal: true,
    postgresSettings: ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.max=10000'],
  });
  const costs: Cost[] = [];
  const hot: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const env = infra.env!;
    const { db } = infra;
    const admin = createDb(infra.serverUrl, { max: 1 });
    await admin.raw('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    cleanups.push(() => admin.destroy());
    const workers = await startBenchWorkers(infra);
    cleanups.push(() => workers.stop());
    const api = await startBenchApi(db, env.client, BENCH_REAL_QUEUE);
    cleanups.push(() => api.app.close());
    const live = (await createShop(db, { id: 'cost', name: 'cost', timeZone: 'Asia/Shanghai' }))!;
    const pool = (await createShop(db, { id: 'cost-pool', name: 'cost-pool', timeZone: 'Asia/Shanghai' }))!;
    for (const shop of ['cost', 'cost-pool']) await startShopWorkflow(env.client, BENCH_REAL_QUEUE, shop);
    const a = await createAgent(db, 'cost', { name: 'A', capacity: 200, status: 'online' });
    const b = await createAgent(db, 'cost', { name: 'B', capacity: 200, status: 'online' });
    await createAgent(db, 'cost-pool', { name: 'P', capacity: 200, status: 'offline' });
    const call = async (key: string, shop: string, path: string, body: unknown, method = 'POST') => {
      const res = await fetch(`${api.base}/${shop}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text}`);
      return JSON.parse(text);
    };
    await call(
      pool.apiKey,
      'cost-pool',
      '/settings/distribution',
      { settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, enabled: false, perAgentCap: 200 } },
      'PUT',
    );

    const appDb = (await db.raw('SELECT current_database() AS d')).rows[0].d as string;
    const statements = async () => {
      const rows = (
        await admin.raw(
          `SELECT d.datname AS db, sum(s.calls)::bigint AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid GROUP BY 1`,
        )
      ).rows as { db: string; calls: string }[];
      const of = (name: string) => Number(rows.find((r) => r.db === name)?.calls ?? 0);
      return { app: of(appDb), temporal: of('temporal') + of('temporal_visibility') };
    };
    const commits = async () =>
      Number((await admin.raw(`SELECT xact_commit FROM pg_stat_database WHERE datname = ?`, [appDb])).rows[0].xact_commit);
    const histories = async (ids: string[]) => {
      const totals = { events: 0, tasks: 0, actions: 0 };
      for (const id of ids) {
        const history = await env.client.workflow
          .getHandle(id)
          .fetchHistory()
          .catch(() => ({ events: [] }));
        for (const e of history.events ?? []) {
          totals.events += 1;
          if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) totals.tasks += 1;
          if (ACTION_EVENTS.has(e.eventType ?? 0)) totals.actions += 1;
        }
      }
      return totals;
    };
    const quiet = async () => {
      for (let i = 0; i < 600; i += 1) {
        if (Number((await db('outbox').whereNull('delivered_at').count({ n: '*' }))[0].n) === 0) break;
        await sleep(100);
      }
      await sleep(1_500);
    };
    // The background's statements per second (Temporal's own timers, shard and membership upkeep, the relay's poll).
    await quiet();
    await admin.raw('SELECT pg_stat_statements_reset()');
    const idleCommits0 = await commits();
    await sleep(10_000);
    const idle = await statements();
    const idleRate = { app: idle.app / 10, temporal: idle.temporal / 10, commits: ((await commits()) - idleCommits0) / 10 };

    const ids = Array.from({ length: N }, (_, i) => `c${i}`);
    const poolIds = Array.from({ length: N }, (_, i) => `p${i}`);
    const runIds = (shop: string, list: string[]) => [...list.map((id) => conversationWorkflowId(shop, id)), shopWorkflowId(shop)];
    const measure = async (label: string, workflows: string[], ops: () => Promise<unknown>) => {
      const before = await histories(workflows);
      const c0 = await commits();
      await admin.raw('SELECT pg_stat_statements_reset()');
      const t0 = Date.now();
      await ops();
      await quiet();
      const secs = (Date.now() - t0) / 1000;
      const s = await statements();
      const c1 = await commits();
      const after = await histories(workflows);
      costs.push({
        label,
        appStatements: Math.max(0, s.app - idleRate.app * secs) / N,
        temporalStatements: s.temporal + idle.temporal > 0 ? Math.max(0, s.temporal - idleRate.temporal * secs) / N : null,
        transactions: Math.max(0, c1 - c0 - idleRate.commits * secs) / N,
        events: (after.events - before.events) / N,
        tasks: (after.tasks - before.tasks) / N,
        actions: (after.actions - before.actions) / N,
        seconds: secs,
      });
      process.stdout.write(`${label}: done\n`);
    };
    const each = (list: string[], f: (id: string) => Promise<unknown>) =>
      runLimited(
        list.map((id) => () => f(id).then(() => undefined)),
        8,
      );

    await measure('session start, routed to a free agent', runIds('cost', ids), () =>
      each(ids, (id) => call(live.apiKey, 'cost', '/sessions', { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true })),
    );
    const holder = new Map<string, string>();
    for (const id of ids) holder.set(id, (await db('sessions').where({ shop_id: 'cost', session_id: id }).first('agent_id')).agent_id);
    await measure('buyer message', runIds('cost', ids), () =>
      each(ids, (id) => call(live.apiKey, 'cost', `/sessions/${id}/messages`, { from: 'buyer', messageId: 'm1' })),
    );
    await measure('agent reply', runIds('cost', ids), () =>
      each(ids, (id) => call(live.apiKey, 'cost', `/sessions/${id}/messages`, { from: 'agent', messageId: 'm2', agentId: holder.get(id) })),
    );
    await measure('transfer (转接)', runIds('cost', ids), () =>
      each(ids, (id) => call(live.apiKey, 'cost', `/sessions/${id}/transfer`, { toAgentId: holder.get(id) === a.id ? b.id : a.id })),
    );
    await measure('close by the agent', runIds('cost', ids), () =>
      each(ids, (id) => call(live.apiKey, 'cost', `/sessions/${id}/close`, { by: 'agent' })),
    );
    await measure('session start, nobody online → offline pool', runIds('cost-pool', poolIds), () =>
      each(poolIds, (id) =>
        call(pool.apiKey, 'cost-pool', '/sessions', { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true }),
      ),
    );
    await db('agents').where({ shop_id: 'cost-pool' }).update({ status: 'online' });
    await measure('pool assignment (run-now for all, each run told)', runIds('cost-pool', poolIds), async () => {
      const run = await call(pool.apiKey, 'cost-pool', '/distribution/run-now', {});
      if (run.assignedCount !== N) throw new Error(`run-now assigned ${run.assignedCount}, expected ${N}`);
    });
    // Hot spots, each alone on the machine: the per-shop routing lock, the per-shop event sequence, one shop run.
    const lanes = 16;
    const burst = async (count: number, op: (i: number) => Promise<unknown>) => {
      const t0 = performance.now();
      await runLimited(
        Array.from({ length: count }, (_, i) => () => op(i).then(() => undefined)),
        lanes,
      );
      return count / ((performance.now() - t0) / 1000);
    };
    const routeShops = ['route-0', ...Array.from({ length: 7 }, (_, i) => `route-${i + 1}`)];
    for (const id of routeShops) {
      await createShop(db, { id, name: id, timeZone: 'Asia/Shanghai' });
      for (let i = 0; i < 5; i += 1) await createAgent(db, id, { name: `r${i}`, capacity: 200, status: 'online' });
    }
    const at = new Date().toISOString();
    const open = async (shopId: string, sessionId: string) =>
      openSession(db, {
        shopId,
        sessionId,
        buyerId: `b-${sessionId}`,
        topic: 'presales',
        wantsHuman: true,
        botEngaged: false,
        policy: 'current',
        at,
      });
    const ROUTES = 800;
    for (let i = 0; i < ROUTES; i += 1) await open('route-0', `one-${i}`);
    for (let i = 0; i < ROUTES; i += 1) await open(routeShops[i % 8], `many-${i}`);
    hot.push(
      `routing (open row → route under the shop's lock → seat taken), ${lanes} at once: one shop ${(await burst(ROUTES, (i) => routeSession(db, 'route-0', `one-${i}`, at))).toFixed(0)}/s; spread over 8 shops ${(await burst(ROUTES, (i) => routeSession(db, routeShops[i % 8], `many-${i}`, at))).toFixed(0)}/s`,
    );
    const event = (shopId: string) =>
      db.transaction((tx) =>
        appendEvent(tx, shopId, { type: 'agent.status_changed', data: { agentId: 'x', from: 'online', to: 'offline' } }),
      );
    hot.push(
      `event append (its own transaction), ${lanes} at once: one shop ${(await burst(2_000, () => event('route-0'))).toFixed(0)}/s; spread over 8 shops ${(await burst(2_000, (i) => event(routeShops[i % 8]))).toFixed(0)}/s`,
    );
    // One shop run: agentAvailable signals (each wakes its distribution check), until its history stops growing.
    const shopHandle = env.client.workflow.getHandle(shopWorkflowId('cost'));
    const historyLength = async () => Number((await shopHandle.describe()).historyLength);
    const len0 = await historyLength();
    const SIGNALS = 300;
    const t0 = performance.now();
    await runLimited(
      Array.from({ length: SIGNALS }, () => () => shopHandle.signal(agentAvailableSignal, { agentId: a.id })),
      32,
    );
    let last = await historyLength();
    let lastChange = performance.now();
    while (performance.now() - lastChange < 3_000) {
      await sleep(200);
      const len = await historyLength();
      if (len !== last) [last, lastChange] = [len, performance.now()];
    }
    hot.push(
      `one shop run: ${SIGNALS} agentAvailable signals handled at ${(SIGNALS / ((lastChange - t0) / 1000)).toFixed(0)}/s (${((last - len0) / SIGNALS).toFixed(1)} history events each)`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await infra.stop();
  }
  const f = (n: number | null) => (n === null ? '—' : n.toFixed(1)).padStart(9);
  process.stdout.write(
    [
      `bench:costs — ${N} of each operation through the HTTP API, worker and relay; ${shapeLine()}; per operation`,
      machineLine(),
      `${'operation'.padEnd(52)} ${'app SQL'.padStart(9)} ${'app tx'.padStart(9)} ${'Temporal SQL'.padStart(12)} ${'events'.padStart(9)} ${'wf tasks'.padStart(9)} ${'actions'.padStart(9)}`,
      ...costs.map(
        (c) =>
          `${c.label.padEnd(52)} ${f(c.appStatements)} ${f(c.transactions)} ${f(c.temporalStatements).padStart(12)} ${f(c.events)} ${f(c.tasks)} ${f(c.actions)}`,
      ),
      'hot spots:',
      ...hot.map((h) => `  ${h}`),
      "app SQL: statements in the app database (pg_stat_statements, the idle background subtracted); app tx: its commits (idle subtracted); Temporal SQL: the server's own statements (cluster shape only; the dev server keeps SQLite); events, workflow tasks, actions: added to the session runs and the shop run.",
    ].join('\n') + '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
