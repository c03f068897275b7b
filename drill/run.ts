/**
 * The drill (`npm run drill`, and its short form in `npm test`): a bounded mixed load on the
 * production shape while processes are killed, then the checks that nothing was lost. The load is a
 * set of buyers (start, messages, an agent reply, sometimes a transfer, a close) and a 1,000-message
 * offline pool handed out by distribution; two webhook receivers take every event of both shops.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../db/connection';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../domain/distribution';
import { conversationWorkflowId } from '../domain/temporal-names';
import { clusterPorts, launchCluster, type RunningCluster } from '../infra/cluster/stack';
import { DrillClient, newTally, type Tally } from './client';
import { DrillReceiver } from './receivers';

export const FAULTS = ['worker', 'api', 'history', 'relay', 'postgres'] as const;
export type Fault = (typeof FAULTS)[number];

/** Which supervised process each fault kills with SIGKILL (Postgres is stopped and started instead). */
const FAULT_TARGET: Record<Exclude<Fault, 'postgres'>, string> = {
  worker: 'worker-1',
  api: 'api-1',
  history: 'temporal-history-1',
  relay: 'relay',
};

export interface DrillOptions {
  dataDir: string;
  cacheDir: string;
  portBase: number;
  apiPort: number;
  /** How long the buyers keep coming. */
  durationMs: number;
  /** Buyers in flight at once (each runs one session after another). */
  buyers: number;
  /** Each buyer runs at least this many sessions, however long they take (a busy machine is slower, not emptier). */
  minSessionsPerBuyer?: number;
  /** Sessions left in the offline pool, then distributed. 0: none. */
  poolMessages: number;
  /** Spread over the run, in this order. */
  faults: readonly Fault[];
  log: (line: string) => void;
  /** How long the checks wait for deliveries and runs to catch up. */
  settleMs?: number;
}

export interface Recovery {
  fault: Fault;
  /** What was killed (name and pid). */
  target: string;
  /** Kill → the supervisor's replacement process spawned (backoff included); Postgres: back up. */
  restartedMs: number | null;
  /** Kill → PROBES new sessions, started through the load balancer, assigned, transferred, and their events at both receivers. */
  recoveredMs: number;
  /** Whether every probe got through within its 5 minutes (a check fails otherwise). */
  through: boolean;
}

export interface DrillCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillReport {
  durationMs: number;
  /** CPU seconds each kind of process spent during the load (a process replaced midway: its replacement's, from its start). */
  cpuSeconds: Record<string, number>;
  sessionsStarted: number;
  messagesReported: number;
  transfers: number;
  closes: number;
  poolAssigned: number;
  tally: Tally;
  recoveries: Recovery[];
  checks: DrillCheck[];
  ok: boolean;
}

const LIVE = 'drill-live';
const POOL = 'drill-pool';
const LIVE_AGENTS = 4;
const POOL_AGENTS = 5;
const POOL_AGENT_CAPACITY = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(1_000);
  }
}

interface Shop {
  id: string;
  key: string;
  agents: string[];
}

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const log = opts.log;
  const receivers = [new DrillReceiver('receiver-a'), new DrillReceiver('receiver-b')];
  for (const r of receivers) await r.start();
  let cluster: RunningCluster | undefined;
  let db: Db | undefined;
  let temporal: Connection | undefined;
  try {
    log('starting the cluster (real Temporal server on Postgres, 2 history, 2 matching, 2 workers, relay, 2 APIs behind HAProxy)…');
    cluster = await launchCluster({
      dataDir: opts.dataDir,
      cacheDir: opts.cacheDir,
      ports: clusterPorts(opts.portBase, opts.apiPort),
      namespace: 'default',
      log,
      childStdio: 'ignore',
      webUi: false,
      // A drill kills each process once; a real crash loop (more than 5 a minute) fails it.
      supervisor: { maxCrashes: 5 },
      appEnv: { RATE_LIMIT_PER_MINUTE: '1000000', LOG_LEVEL: 'warn' },
    });
    const restarts: { name: string; exitedAt: number; restartedAt: number }[] = [];
    cluster.supervisor.on('restart', (e) => restarts.push(e));
    // A process that keeps crashing ends the drill as failed (its checks would only time out).
    let gaveUp: string | null = null;
    cluster.supervisor.on('giveUp', (name) => (gaveUp = name));
    const tally = newTally();
    const client = new DrillClient(cluster.apiUrl, tally);
    db = createDb(cluster.databaseUrl, { max: 4 });

    const shops = await setUp(client, cluster.adminToken, receivers, opts.poolMessages > 0);
    const live = shops[0];
    log(`shops ${shops.map((s) => s.id).join(', ')} ready, each with two webhook endpoints`);

    const started = new Map<string, Set<string>>(shops.map((s) => [s.id, new Set<string>()]));
    const counts = { messages: 0, transfers: 0, closes: 0 };
    const cpu0 = cpuSample(cluster, opts.dataDir);
    const t0 = Date.now();
    const endAt = t0 + opts.durationMs;

    // Buyers of the live shop, one session after another, until the run ends and each ran its minimum.
    const buyers = Array.from({ length: opts.buyers }, async (_, b) => {
      for (let n = 0; Date.now() < endAt || n < (opts.minSessionsPerBuyer ?? 0); n += 1) {
        await oneSession(client, live, `b${b}-${n}`, started.get(live.id)!, counts, n % 3 === 0);
      }
    });

    // The pool: sessions nobody can take, then agents come online and distribution hands them out.
    const pool =
      opts.poolMessages > 0 ? fillAndDistribute(client, shops[1], opts.poolMessages, started.get(POOL)!, db, log) : Promise.resolve(0);

    const recoveries: Recovery[] = [];
    const load = Promise.allSettled([...buyers, pool]);
    try {
      for (const [i, fault] of opts.faults.entries()) {
        const at = t0 + ((i + 1) / (opts.faults.length + 1)) * opts.durationMs;
        await sleep(Math.max(0, at - Date.now()));
        if (gaveUp) throw new Error(`${gaveUp} kept crashing; the supervisor gave up on it`);
        recoveries.push(await inflict(fault, cluster, restarts, client, live, receivers, started.get(live.id)!, log));
      }
    } finally {
      await load;
    }
    await Promise.all(buyers);
    const poolAssigned = await pool;
    const cpuSeconds = cpuBetween(cpu0, cpuSample(cluster, opts.dataDir));
    log(`load done after ${Math.round((Date.now() - t0) / 1000)} s; checking…`);

    temporal = await Connection.connect({ address: cluster.temporalAddress });
    const checks = await check({
      db,
      temporal: new Client({ connection: temporal }),
      shops,
      started,
      receivers,
      tally,
      poolMessages: opts.poolMessages,
      settleMs: opts.settleMs ?? 300_000,
    });
    checks.push({
      name: 'every fault recovered: its probes started, assigned, transferred, their events at both receivers',
      ok: recoveries.every((r) => r.through) && gaveUp === null,
      detail: recoveries.map((r) => `${r.fault} ${r.through ? 'yes' : 'NO'}`).join(', ') || 'no faults',
    });
    const sessionsStarted = [...started.values()].reduce((n, s) => n + s.size, 0);
    return {
      durationMs: Date.now() - t0,
      cpuSeconds,
      sessionsStarted,
      messagesReported: counts.messages,
      transfers: counts.transfers,
      closes: counts.closes,
      poolAssigned,
      tally,
      recoveries,
      checks,
      ok: checks.every((c) => c.ok),
    };
  } finally {
    await temporal?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await cluster?.stop().catch((err) => log(`cluster stop: ${String(err)}`));
    for (const r of receivers) await r.stop();
  }
}

const TICKS_PER_SECOND = 100;

/** utime + stime of a process and its waited-for children, in seconds; 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Each supervised child's pid and CPU so far, and the drill's Postgres (its postmaster and live backends). */
function cpuSample(cluster: RunningCluster, dataDir: string): Map<string, { pid: number; cpu: number }> {
  const out = new Map<string, { pid: number; cpu: number }>();
  for (const child of cluster.supervisor.children) if (child.pid) out.set(child.name, { pid: child.pid, cpu: cpuOf(child.pid) });
  try {
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    let cpu = cpuOf(postmaster); // its waited-for children (ended backends) included
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === postmaster) cpu += cpuOf(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    out.set('postgres', { pid: postmaster, cpu });
  } catch {
    // not running at this instant
  }
  return out;
}

/** CPU seconds between two samples per kind of process; a process replaced meanwhile counts from its start. */
function cpuBetween(
  before: Map<string, { pid: number; cpu: number }>,
  after: Map<string, { pid: number; cpu: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, now] of after) {
    const then = before.get(name);
    const spent = then && then.pid === now.pid ? now.cpu - then.cpu : now.cpu;
    const kind = name.replace(/-\d+$/, '');
    out[kind] = (out[kind] ?? 0) + Math.max(0, spent);
  }
  return out;
}

async function setUp(client: DrillClient, admin: string, receivers: DrillReceiver[], withPool: boolean): Promise<Shop[]> {
  const shops: Shop[] = [];
  for (const [id, agents, capacity, status] of [
    [LIVE, LIVE_AGENTS, 50, 'online'],
    ...(withPool ? [[POOL, POOL_AGENTS, POOL_AGENT_CAPACITY, 'offline']] : []),
  ] as [string, number, number, string][]) {
    const shop = await client.call('POST', '/v1/admin/shops', {
      key: admin,
      idempotencyKey: `shop-${id}`,
      body: { id, name: `Drill ${id}`, timeZone: 'Asia/Shanghai' },
    });
    const key: string = shop.body.apiKey;
    for (const r of receivers) {
      const hook = await client.call('POST', `/v1/shops/${id}/webhooks`, {
        key,
        idempotencyKey: `hook-${id}-${r.name}`,
        body: { url: r.urlFor(id), description: r.name },
      });
      r.secrets.set(id, hook.body.secret);
    }
    const ids: string[] = [];
    for (let i = 0; i < agents; i += 1) {
      const a = await client.call('POST', `/v1/shops/${id}/agents`, {
        key,
        idempotencyKey: `agent-${id}-${i}`,
        body: { name: `Agent ${i + 1}`, capacity, status },
      });
      ids.push(a.body.agent.id);
    }
    shops.push({ id, key, agents: ids });
  }
  return shops;
}

/** One buyer's session: start, a message, the agent's reply, sometimes a transfer, another message, the close. */
async function oneSession(
  client: DrillClient,
  shop: Shop,
  sessionId: string,
  started: Set<string>,
  counts: { messages: number; transfers: number; closes: number },
  transfer: boolean,
): Promise<void> {
  const base = `/v1/shops/${shop.id}/sessions`;
  const start = await client.call('POST', base, {
    key: shop.key,
    body: { sessionId, buyerId: `buyer-${sessionId}`, topic: 'presales', wantsHuman: true },
  });
  if (start.status !== 201 && start.status !== 200) return;
  started.add(sessionId);
  const path = `${base}/${sessionId}`;
  const message = async (from: 'buyer' | 'agent', messageId: string, agentId?: string) => {
    const r = await client.call('POST', `${path}/messages`, {
      key: shop.key,
      body: { from, messageId, ...(agentId ? { agentId } : {}) },
      expect: [409],
    });
    if (r.status === 202) counts.messages += 1;
  };
  await message('buyer', 'm1');
  let agentId: string | null = start.body.session?.agentId ?? null;
  if (agentId) await message('agent', 'm2', agentId);
  if (transfer && agentId) {
    const to = shop.agents.find((a) => a !== agentId)!;
    const t = await client.call('POST', `${path}/transfer`, {
      key: shop.key,
      idempotencyKey: `transfer-${sessionId}`,
      body: { toAgentId: to, note: 'drill' },
      expect: [409],
    });
    if (t.status === 200) {
      counts.transfers += 1;
      agentId = to;
    }
  }
  await message('buyer', 'm3');
  if (agentId) await message('agent', 'm4', agentId);
  const close = await client.call('POST', `${path}/close`, { key: shop.key, body: { by: 'agent' }, expect: [409] });
  if (close.status === 200) counts.closes += 1;
}

async function fillAndDistribute(
  client: DrillClient,
  shop: Shop,
  messages: number,
  started: Set<string>,
  db: Db,
  log: (line: string) => void,
): Promise<number> {
  await client.call('PUT', `/v1/shops/${shop.id}/settings/distribution`, {
    key: shop.key,
    body: {
      settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, perAgentCap: POOL_AGENT_CAPACITY },
      changedBy: 'drill',
    },
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < messages) {
        const sessionId = `p-${next++}`;
        const r = await client.call('POST', `/v1/shops/${shop.id}/sessions`, {
          key: shop.key,
          body: { sessionId, buyerId: `buyer-${sessionId}`, topic: 'presales', wantsHuman: true },
        });
        if (r.status === 201 || r.status === 200) started.add(sessionId);
      }
    }),
  );
  log(`${messages} sessions wait in the offline pool; agents come online and distribution runs`);
  for (const agent of shop.agents) {
    await client.call('PATCH', `/v1/shops/${shop.id}/agents/${agent}`, { key: shop.key, body: { status: 'online' } });
  }
  const pending = async () => Number((await db('offline_messages').where({ shop_id: shop.id, status: 'pending' }).count({ n: '*' }))[0].n);
  // Repeated until the pool is empty: a run-now may meet a worker that was just killed.
  const deadline = Date.now() + 300_000;
  for (let round = 0; Date.now() < deadline && (await pending()) > 0; round += 1) {
    await client.call('POST', `/v1/shops/${shop.id}/distribution/run-now`, {
      key: shop.key,
      idempotencyKey: `run-now-${round}`,
      body: { requestedBy: 'drill' },
    });
    await sleep(2_000);
  }
  return Number((await db('offline_messages').where({ shop_id: shop.id, status: 'assigned' }).count({ n: '*' }))[0].n);
}

async function inflict(
  fault: Fault,
  cluster: RunningCluster,
  restarts: { name: string; exitedAt: number; restartedAt: number }[],
  client: DrillClient,
  live: Shop,
  receivers: DrillReceiver[],
  started: Set<string>,
  log: (line: string) => void,
): Promise<Recovery> {
  const at = Date.now();
  let target: string;
  let restartedMs: number | null = null;
  if (fault === 'postgres') {
    target = 'postgres';
    log('fault: restarting Postgres');
    await cluster.restartPostgres();
    restartedMs = Date.now() - at;
  } else {
    const child = cluster.supervisor.child(FAULT_TARGET[fault]);
    if (!child.running) throw new Error(`${child.name} is not running: the supervisor gave up on it`);
    target = `${child.name} (pid ${child.pid})`;
    log(`fault: SIGKILL ${target}`);
    child.proc.kill('SIGKILL');
  }
  // Recovered = new sessions, spread over the history shards, are assigned and transferred (the
  // transfer reaches the run through the outbox relay), and their events reached both receivers.
  const probes = await Promise.all(Array.from({ length: PROBES }, (_, i) => probe(client, live, receivers, `probe-${fault}-${i}-${at}`)));
  for (const p of probes) if (p.started) started.add(p.sessionId);
  const through = probes.every((p) => p.through);
  const recoveredMs = Date.now() - at;
  if (fault !== 'postgres') {
    await until(60_000, async () => restarts.some((e) => e.name === FAULT_TARGET[fault] && e.exitedAt >= at - 1_000));
    const restart = restarts.find((e) => e.name === FAULT_TARGET[fault] && e.exitedAt >= at - 1_000);
    restartedMs = restart ? restart.restartedAt - at : null;
  }
  log(
    `  recovered in ${(recoveredMs / 1000).toFixed(1)} s (process back after ${restartedMs === null ? '—' : `${(restartedMs / 1000).toFixed(1)} s`})`,
  );
  return { fault, target, restartedMs, recoveredMs, through };
}

/** Probes per fault: with 8 history shards, enough that most shards see one. */
export const PROBES = 8;

/** A session started, assigned, transferred and closed, waiting at each step until the system caught up. */
async function probe(
  client: DrillClient,
  live: Shop,
  receivers: DrillReceiver[],
  sessionId: string,
): Promise<{ sessionId: string; started: boolean; through: boolean }> {
  const path = `/v1/shops/${live.id}/sessions/${sessionId}`;
  const start = await client.call('POST', `/v1/shops/${live.id}/sessions`, {
    key: live.key,
    body: { sessionId, buyerId: `buyer-${sessionId}`, topic: 'presales', wantsHuman: true },
  });
  const started = start.status === 201 || start.status === 200;
  const from: string | null = start.body?.session?.agentId ?? null;
  const types = ['session.opened', 'session.assigned'];
  let through = started && from !== null;
  if (from) {
    const to = live.agents.find((a) => a !== from)!;
    const t = await client.call('POST', `${path}/transfer`, {
      key: live.key,
      idempotencyKey: `t-${sessionId}`,
      body: { toAgentId: to },
      expect: [409],
    });
    if (t.status === 200) {
      types.push('session.transferred');
      through =
        (await until(300_000, async () => (await client.call('GET', path, { key: live.key })).body?.live?.agentId === to)) && through;
    }
  }
  through = (await until(300_000, async () => receivers.every((rc) => rc.hasSessionEvents(live.id, sessionId, types)))) && through;
  // Closed so it does not hold a seat for the rest of the run.
  await client.call('POST', `${path}/close`, { key: live.key, body: { by: 'agent' }, expect: [409] });
  return { sessionId, started, through };
}

async function check(ctx: {
  db: Db;
  temporal: Client;
  shops: Shop[];
  started: Map<string, Set<string>>;
  receivers: DrillReceiver[];
  tally: Tally;
  poolMessages: number;
  settleMs: number;
}): Promise<DrillCheck[]> {
  const { db, shops } = ctx;
  const checks: DrillCheck[] = [];
  const deadline = Date.now() + ctx.settleMs;
  const left = () => Math.max(5_000, deadline - Date.now());

  // Sessions started = rows = runs.
  for (const shop of shops) {
    const started = ctx.started.get(shop.id)!;
    const rows = new Set<string>(await db('sessions').where({ shop_id: shop.id }).pluck('session_id'));
    let runs = new Set<string>();
    await until(left(), async () => {
      runs = new Set<string>();
      for await (const wf of ctx.temporal.workflow.list({ query: `ShopId = '${shop.id}'` })) {
        if (wf.workflowId.startsWith('conversation:')) runs.add(wf.workflowId);
      }
      return runs.size >= started.size;
    });
    const missingRows = [...started].filter((s) => !rows.has(s));
    const missingRuns = [...started].filter((s) => !runs.has(conversationWorkflowId(shop.id, s)));
    checks.push({
      name: `${shop.id}: sessions started = rows = runs`,
      ok: missingRows.length === 0 && missingRuns.length === 0 && rows.size === started.size && runs.size === started.size,
      detail: `${started.size} started, ${rows.size} rows, ${runs.size} runs${missingRows.length ? `; no row: ${missingRows.slice(0, 5).join(', ')}` : ''}${missingRuns.length ? `; no run: ${missingRuns.slice(0, 5).join(', ')}` : ''}`,
    });
  }

  // Each shop's event log gap-free; every event at every receiver, repeats under the same webhook-id.
  for (const shop of shops) {
    const [{ n, lo, hi }] = await db('events')
      .where({ shop_id: shop.id })
      .select(db.raw('count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi'));
    checks.push({ name: `${shop.id}: event log gap-free`, ok: n > 0 && lo === 1 && hi === n, detail: `${n} events, seq ${lo}…${hi}` });
    const ids = new Set<number>((await db('events').where({ shop_id: shop.id }).pluck('seq')).map(Number));
    for (const r of ctx.receivers) {
      let missing: number[] = [];
      await until(left(), async () => {
        const got = new Set((r.deliveries.get(shop.id) ?? []).map((d) => d.seq));
        missing = [...ids].filter((s) => !got.has(s));
        return missing.length === 0;
      });
      const deliveries = r.deliveries.get(shop.id) ?? [];
      const byEvent = new Map<string, Set<string>>();
      for (const d of deliveries) byEvent.set(d.eventId, (byEvent.get(d.eventId) ?? new Set()).add(d.webhookId));
      const mixed = [...byEvent.values()].filter((s) => s.size > 1).length;
      // Against the log as it is now: events appended while we waited (a late close, a run) are in it too.
      const logNow = new Set<number>((await db('events').where({ shop_id: shop.id }).pluck('seq')).map(Number));
      const foreign = deliveries.filter((d) => !logNow.has(d.seq)).length;
      // One webhook-id per event and one event per webhook-id.
      const webhookIds = new Set(deliveries.map((d) => d.webhookId));
      checks.push({
        name: `${shop.id}: every event delivered to ${r.name}`,
        ok: missing.length === 0 && mixed === 0 && foreign === 0 && r.rejected === 0 && webhookIds.size === byEvent.size,
        detail: `${ids.size - missing.length}/${ids.size} events, ${deliveries.length - byEvent.size} repeats (all with the event's webhook-id: ${mixed === 0 ? 'yes' : `no, ${mixed}`})${foreign ? `; ${foreign} not in the log` : ''}${r.rejected ? `; ${r.rejected} failed verification` : ''}${missing.length ? `; missing seq ${missing.slice(0, 5).join(', ')}` : ''}`,
      });
    }
  }

  // Every assignment exactly once.
  for (const shop of shops) {
    const dupEvents = await db('events')
      .where({ shop_id: shop.id, type: 'session.assigned' })
      .groupByRaw(`data->>'assignmentId'`)
      .havingRaw('count(*) > 1')
      .select(db.raw(`data->>'assignmentId' AS a`));
    const seats = await db.raw<{ rows: { id: string; seats: number; held: number }[] }>(
      `SELECT a.id, a.active_sessions AS seats, count(s.session_id)::int AS held
         FROM agents a LEFT JOIN sessions s ON s.shop_id = a.shop_id AND s.agent_id = a.id AND s.status = 'active'
        WHERE a.shop_id = ? GROUP BY a.id HAVING a.active_sessions <> count(s.session_id)`,
      [shop.id],
    );
    checks.push({
      name: `${shop.id}: every assignment exactly once`,
      ok: dupEvents.length === 0 && seats.rows.length === 0,
      detail: `assignments announced twice: ${dupEvents.length}; agents whose seat count differs from the sessions they hold: ${seats.rows.length}`,
    });
  }
  if (ctx.poolMessages > 0) {
    const pool = shops[1];
    const rows = await db.raw<{ rows: { total: number; assigned: number; records: number; once: number }[] }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE m.status = 'assigned')::int AS assigned,
              coalesce(sum(r.n), 0)::int AS records, count(*) FILTER (WHERE r.n = 1)::int AS once
         FROM offline_messages m
         LEFT JOIN (SELECT offline_message_id, count(*) AS n FROM assignment_records WHERE outcome = 'assigned' GROUP BY 1) r ON r.offline_message_id = m.id
        WHERE m.shop_id = ?`,
      [pool.id],
    );
    const p = rows.rows[0];
    checks.push({
      name: `${pool.id}: ${ctx.poolMessages} offline messages, each assigned exactly once`,
      ok: p.total === ctx.poolMessages && p.assigned === p.total && p.once === p.total && p.records === p.total,
      detail: `${p.total} messages, ${p.assigned} assigned, ${p.records} assignment records, ${p.once} with exactly one`,
    });
  }

  const t = ctx.tally;
  checks.push({
    name: 'answers other than 2xx, expected 4xx and retryable 503: 0',
    ok: t.unexpected.length === 0,
    detail: `${t.ok} 2xx, ${t.expected4xx} expected 4xx, ${t.retryable503} retryable 503, ${t.transportErrors} cut connections (retried), ${t.unexpected.length} other${t.unexpected.length ? `: ${JSON.stringify(t.unexpected.slice(0, 3))}` : ''}`,
  });
  return checks;
}

export function formatReport(r: DrillReport): string {
  const lines = [
    '',
    `drill: ${(r.durationMs / 1000).toFixed(0)} s, ${r.sessionsStarted} sessions started, ${r.messagesReported} messages, ${r.transfers} transfers, ${r.closes} closes, ${r.poolAssigned} offline messages distributed`,
    `recoveries (kill → process back; kill → ${PROBES} new sessions assigned, transferred, their events at both receivers):`,
    ...r.recoveries.map(
      (x) =>
        `  ${x.fault.padEnd(9)} ${x.target.padEnd(34)} back ${x.restartedMs === null ? '—' : `${(x.restartedMs / 1000).toFixed(1)} s`}, recovered ${(x.recoveredMs / 1000).toFixed(1)} s`,
    ),
    `CPU seconds during the load, by process kind: ${Object.entries(r.cpuSeconds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ')}`,
    'checks:',
    ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    r.ok ? 'drill passed: nothing lost' : 'drill FAILED',
  ];
  return lines.join('\n');
}
