/**
 * `npm run bench:delivery [-- --messages 5000 --shape dev|cluster --workers W]`
 *
 * What a merchant and a chat backend wait for, end to end, on a Temporal dev server, embedded
 * Postgres, a real worker with its outbox relay and the HTTP API on loopback:
 * 1. event latency: while 5,000 buyers arrive (sessions started over HTTP, 32 at a time, nobody
 *    online → each becomes an offline message whose run waits in the pool), every event's
 *    commit-to-webhook time at a local receiver that verifies each signature;
 * 2. `POST …/distribution/run-now` answer time, for a run that assigns all 5,000;
 * 3. run-now → the last of the 5,000 sessions running with its agent (its run's SessionStatus is
 *    `active` in visibility). Floor, in the same run and on the same server: the same 5,000
 *    Temporal operations (signals to waiting runs by run id, 64 at a time as the relay sends them) against
 *    do-nothing runs that mark themselves active the same way.
 */
import type { AddressInfo } from 'node:net';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { buildApp } from '../api/app';
import { PgListener } from '../db/notifications';
import { createShop } from '../db/repositories/shops';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../domain/distribution';
import { SecretBox, newSecretKey } from '../infra/secret-box';
import { step } from '../infra/provision/progress';
import { startReceiver } from '../test/support/webhook-receiver';
import { createWorker } from '../worker/create-worker';
import { startDelivery } from '../worker/delivery';
import { startShopWorkflow } from '../temporal/shop-gateway';
import { pooledNoopWorkflow } from './noop-workflows';
import { WORKER_TUNING_DEFAULTS } from '../config';
import { arg, machineLine, percentile, runLimited, shapeLine, startBenchInfra, startExtraWorkers, WORKERS } from './support';

const N = arg('messages', 5000);
const AGENTS = 200;
const START_CONCURRENCY = 32;
const SIGNAL_CONCURRENCY = 64;
const SHOP = 'bench';

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const infra = await startBenchInfra({ withTemporal: true });
  const receiver = await startReceiver();
  const lines: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const env = infra.env!;
    const { db } = infra;
    const secretKey = newSecretKey();
    const webhooks = { box: new SecretBox(secretKey), policy: { allowLoopback: true, allowPrivate: false } };
    const listener = PgListener.forDb(db);
    // Each worker reports, through the probe's sink, when a run has handled its assignment.
    const activeAt = new Map<string, number>();
    const sinks = {
      probe: {
        assigned: { fn: (_info: unknown, workflowId: string) => void activeAt.set(workflowId, performance.now()), callDuringReplay: false },
      },
    };
    const probeModule = require.resolve('./assignment-probe');
    const workers = [
      await createWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue: 'bench-real',
        db,
        listener,
        webhooks,
        workflowInterceptorModules: [probeModule],
        sinks,
        tuning: WORKER_TUNING_DEFAULTS,
      }),
    ];
    const noop = await Worker.create({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: 'bench-noop',
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./noop-workflows'),
        workflowInterceptorModules: [probeModule],
      }),
      sinks,
      ...WORKER_TUNING_DEFAULTS,
    });
    const running = [...workers.map((w) => w.run()), noop.run()];
    // With --workers 2 the second is a worker process; runs it handles report no probe times, so the
    // end-to-end figure is then read from visibility (SessionStatus active), for the floor as well.
    const extra = await startExtraWorkers(infra, { WEBHOOK_SECRET_KEY: secretKey, WEBHOOK_ALLOW_LOOPBACK: 'true' });
    cleanups.push(() => extra.stop());
    cleanups.push(async () => {
      for (const w of workers) w.shutdown();
      noop.shutdown();
      await Promise.all(running);
    });
    const delivery = await startDelivery({ db, client: env.client, taskQueue: 'bench-real', listener });
    cleanups.unshift(async () => {
      await delivery.stop();
      await listener.close();
    });
    const app = await buildApp({
      db,
      temporal: { client: env.client, taskQueue: 'bench-real' },
      adminToken: undefined,
      logLevel: 'silent',
      webhooks,
      rateLimitPerMinute: 0,
    });
    cleanups.unshift(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/shops/${SHOP}`;

    const created = await createShop(db, { id: SHOP, name: 'Bench', timeZone: 'Asia/Shanghai' });
    if (!created) throw new Error('bench shop exists');
    const headers = { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' };
    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(
        `${base}${path}`,
        body === undefined
          ? { method, headers: { authorization: headers.authorization } }
          : { method, headers, body: JSON.stringify(body) },
      );
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    };
    // Scheduled runs off (run-now still works), so nothing but run-now assigns the pool.
    await startShopWorkflow(env.client, 'bench-real', SHOP);
    await http('PUT', '/settings/distribution', {
      settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, enabled: false, perAgentCap: Math.ceil(N / AGENTS) },
    });
    for (let i = 0; i < AGENTS; i++) await http('POST', '/agents', { name: `A${i}`, capacity: 200 });
    const hook = await http('POST', '/webhooks', { url: receiver.url });
    receiver.secret = hook.secret;

    // 1. Buyers arrive while nobody is online; events go out under that load.
    step(`starting ${N} sessions (nobody online → offline pool), ${START_CONCURRENCY} at a time…`);
    const receivedAt = new Map<number, number>();
    const onReceive = setInterval(() => {
      for (const r of receiver.received) if (r.event.seq !== null && !receivedAt.has(r.event.seq)) receivedAt.set(r.event.seq, Date.now());
    }, 5);
    global.gc?.();
    const memBefore = process.memoryUsage();
    let t0 = performance.now();
    let done = 0;
    await runLimited(
      Array.from({ length: N }, (_, i) => async () => {
        await http('POST', '/sessions', { sessionId: `s${i}`, buyerId: `b${i}`, topic: 'presales', wantsHuman: true });
        if (++done % 1000 === 0) step(`  ${done} started`);
      }),
      START_CONCURRENCY,
    );
    const startSecs = (performance.now() - t0) / 1000;
    global.gc?.();
    const memAfter = process.memoryUsage();
    const perRunKiB = (memAfter.heapUsed + memAfter.external - memBefore.heapUsed - memBefore.external) / N / 1024;
    const eventsDuringLoad = Number((await db('shops').where({ id: SHOP }).first('last_event_seq')).last_event_seq);
    await waitUntil('every event delivered', async () => receivedAt.size >= eventsDuringLoad);
    clearInterval(onReceive);
    const events = await db('events').where({ shop_id: SHOP }).where('seq', '<=', eventsDuringLoad).select('seq', 'recorded_at');
    const latencies = events.map((e) => receivedAt.get(Number(e.seq))! - e.recorded_at.getTime()).sort((a, b) => a - b);
    if (receiver.rejected > 0) throw new Error(`${receiver.rejected} deliveries failed verification`);

    // 2 and 3. Everyone online (straight in Postgres: no event-driven run may take the pool first), then run-now.
    await db('agents').where({ shop_id: SHOP }).update({ status: 'online' });
    step(`run-now for ${N} pool messages…`);
    t0 = performance.now();
    const run = await http('POST', '/distribution/run-now', {});
    const answerMs = performance.now() - t0;
    if (run.assignedCount !== N) throw new Error(`run assigned ${run.assignedCount}, expected ${N}`);
    await waitUntil('outbox delivered', async () => (await db('outbox').whereNull('delivered_at').count({ n: '*' }))[0].n === 0);
    const relayedMs = performance.now() - t0;
    const realIds = Array.from({ length: N }, (_, i) => `conversation:${SHOP}:s${i}`);
    const activeQuery = `ShopId = '${SHOP}' AND SessionStatus = 'active'`;
    if (WORKERS === 1) await waitUntil('all sessions running with their agent', async () => realIds.every((id) => activeAt.has(id)));
    await waitUntil('all sessions active in visibility', async () => (await env.client.workflow.count(activeQuery)).count >= N);
    const visibleMs = performance.now() - t0;
    const endToEndMs = WORKERS === 1 ? Math.max(...realIds.map((id) => activeAt.get(id)!)) - t0 : visibleMs;

    // Floor: the same signals to do-nothing runs waiting the same way.
    step(`floor: ${N} do-nothing runs, then ${N} signals…`);
    const floorRuns: string[] = [];
    await runLimited(
      Array.from(
        { length: N },
        (_, i) => () =>
          env.client.workflow
            .start(pooledNoopWorkflow, {
              workflowId: `floor-${i}`,
              taskQueue: 'bench-noop',
              typedSearchAttributes: [],
              searchAttributes: { ShopId: ['floor'], SessionStatus: ['offline'] },
            })
            .then((handle) => void (floorRuns[i] = handle.firstExecutionRunId)),
      ),
      START_CONCURRENCY,
    );
    t0 = performance.now();
    await runLimited(
      Array.from({ length: N }, (_, i) => () => env.client.workflow.getHandle(`floor-${i}`, floorRuns[i]).signal('agentAssigned', {})),
      SIGNAL_CONCURRENCY,
    );
    const signalledMs = performance.now() - t0;
    const floorIds = Array.from({ length: N }, (_, i) => `floor-${i}`);
    await waitUntil('floor runs assigned', async () => floorIds.every((id) => activeAt.has(id)));
    const floorProbeMs = Math.max(...floorIds.map((id) => activeAt.get(id)!)) - t0;
    await waitUntil(
      'floor runs active in visibility',
      async () => (await env.client.workflow.count(`ShopId = 'floor' AND SessionStatus = 'active'`)).count >= N,
    );
    const floorVisibleMs = performance.now() - t0;
    const floorMs = WORKERS === 1 ? floorProbeMs : floorVisibleMs;

    lines.push(
      `bench:delivery — ${N} sessions and pool messages, ${AGENTS} agents, ${shapeLine()} + embedded Postgres + outbox relay + API, all on loopback`,
      machineLine(),
      `event latency (commit → verified webhook), ${latencies.length} events while ${N} sessions started at ${(N / startSecs).toFixed(0)}/s:`,
      `  p50 ${percentile(latencies, 50).toFixed(0)} ms   p99 ${percentile(latencies, 99).toFixed(0)} ms   max ${latencies.at(-1)!.toFixed(0)} ms   (goal p50 ≤ 200, p99 ≤ 1000)`,
      `worker memory with ${N} pooled runs cached: heap+external +${((memAfter.heapUsed + memAfter.external - (memBefore.heapUsed + memBefore.external)) / 2 ** 20).toFixed(0)} MiB (≈ ${perRunKiB.toFixed(0)} KiB a run), rss ${(memAfter.rss / 2 ** 20).toFixed(0)} MiB`,
      `run-now answer (${N} assigned)          ${answerMs.toFixed(0)} ms   (goal < 2000)`,
      ...(WORKERS > 1 ? ['(two workers: run-now → last session and floor read from visibility)'] : []),
      `run-now → last of ${N} sessions running with its agent   ${(endToEndMs / 1000).toFixed(1)} s   (goal ≤ 20 s; every signal sent after ${(relayedMs / 1000).toFixed(1)} s; all active in visibility after ${(visibleMs / 1000).toFixed(1)} s)`,
      `floor: ${N} signals → runs past that task              ${(floorMs / 1000).toFixed(1)} s   (every signal sent after ${(signalledMs / 1000).toFixed(1)} s; visibility after ${(floorVisibleMs / 1000).toFixed(1)} s)`,
      `ratio end-to-end / floor                                 ${(endToEndMs / floorMs).toFixed(2)}   (goal ≤ 1.30)`,
    );
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await receiver.close();
    await infra.stop();
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
