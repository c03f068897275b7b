/**
 * `npm run bench:sessions [-- --sessions N --messages M --concurrency C --rounds R]`
 *
 * Starts N sessions and reports M messages each through the real HTTP API (loopback), worker and
 * Temporal dev server, then the same load against a do-nothing workflow (same API path, another
 * task queue), and prints throughput, API latency and the ratio to that baseline. The two loads
 * alternate for R rounds and each figure is the median over the rounds: on a shared 2-core machine
 * a single stall would otherwise decide the ratio.
 */
import type { AddressInfo } from 'node:net';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { buildApp } from '../api/app';
import { createShop } from '../db/repositories/shops';
import { startDelivery } from '../worker/delivery';
import { createWorker } from '../worker/create-worker';
import { machineLine, percentile, runLimited, startBenchInfra } from './support';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SESSIONS = arg('sessions', 200);
const MESSAGES = arg('messages', 10);
const CONCURRENCY = arg('concurrency', 32);
const ROUNDS = arg('rounds', 3);

interface PhaseResult {
  perSecond: number;
  p50: number;
  p99: number;
}

interface LoadResult {
  starts: PhaseResult;
  messages: PhaseResult;
}

async function main(): Promise<void> {
  const infra = await startBenchInfra({ withTemporal: true });
  const baselines: LoadResult[] = [];
  const reals: LoadResult[] = [];
  // Stop Postgres and Temporal even when the benchmark fails.
  try {
    const env = infra.env!;
    const { db } = infra;
    const created = await createShop(db, { id: 'bench', name: 'Bench', timeZone: 'Asia/Shanghai' });
    if (!created) throw new Error('bench shop exists');

    const realWorker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: 'bench-real',
      db,
    });
    const delivery = await startDelivery({ db, client: env.client, taskQueue: 'bench-real' });
    const noopWorker = await Worker.create({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: 'bench-noop',
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./noop-workflows') }),
    });
    const running = [realWorker.run(), noopWorker.run()];

    const load = async (taskQueue: string, prefix: string): Promise<LoadResult> => {
      const app = await buildApp({ db, temporal: { client: env.client, taskQueue }, adminToken: undefined, logLevel: 'silent', rateLimitPerMinute: 0 });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/shops/bench`;
      const headers = { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' };
      const post = async (url: string, body: unknown) => {
        const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      };

      const ids = Array.from({ length: SESSIONS }, (_, i) => `${prefix}-${i}`);
      let t0 = performance.now();
      const startLat = await runLimited(
        ids.map((id) => () => post(`${base}/sessions`, { sessionId: id, buyerId: `b-${id}`, topic: 'presales' })),
        CONCURRENCY,
      );
      const startSecs = (performance.now() - t0) / 1000;

      const messageTasks = ids.flatMap((id) =>
        Array.from({ length: MESSAGES }, (_, m) => () => post(`${base}/sessions/${id}/messages`, { from: m % 2 ? 'agent' : 'buyer', messageId: `m${m}` })),
      );
      t0 = performance.now();
      const msgLat = await runLimited(messageTasks, CONCURRENCY);
      const msgSecs = (performance.now() - t0) / 1000;
      await app.close();
      return {
        starts: { perSecond: SESSIONS / startSecs, p50: percentile(startLat, 50), p99: percentile(startLat, 99) },
        messages: { perSecond: messageTasks.length / msgSecs, p50: percentile(msgLat, 50), p99: percentile(msgLat, 99) },
      };
    };

    // Warm-up on both queues (bundles loaded, connections open), then the measured runs.
    await load('bench-noop', 'warm-noop');
    await load('bench-real', 'warm-real');
    for (let round = 0; round < ROUNDS; round++) {
      baselines.push(await load('bench-noop', `noop-${round}`));
      reals.push(await load('bench-real', `real-${round}`));
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    await delivery.stop();
    realWorker.shutdown();
    noopWorker.shutdown();
    await Promise.all(running);
  } finally {
    await infra.stop();
  }

  const baseline = medianLoad(baselines);
  const real = medianLoad(reals);
  const row = (name: string, r: LoadResult) =>
    `${name.padEnd(22)} ${r.starts.perSecond.toFixed(1).padStart(10)} ${r.starts.p50.toFixed(1).padStart(8)} ${r.starts.p99.toFixed(1).padStart(8)}` +
    `   ${r.messages.perSecond.toFixed(1).padStart(10)} ${r.messages.p50.toFixed(1).padStart(8)} ${r.messages.p99.toFixed(1).padStart(8)}`;
  const lines = [
    `bench:sessions — ${SESSIONS} sessions × ${MESSAGES} messages, ${CONCURRENCY} concurrent HTTP calls, median of ${ROUNDS} alternating rounds, Temporal dev server + embedded Postgres on loopback`,
    machineLine(),
    `${''.padEnd(22)} ${'sessions/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   ${'signals/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
    row('do-nothing workflow', baseline),
    row('conversationWorkflow', real),
    `ratio to baseline: sessions/s ${(real.starts.perSecond / baseline.starts.perSecond).toFixed(2)}, signals/s ${(real.messages.perSecond / baseline.messages.perSecond).toFixed(2)} (goal ≥ 0.70)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianPhase(phases: PhaseResult[]): PhaseResult {
  return { perSecond: median(phases.map((p) => p.perSecond)), p50: median(phases.map((p) => p.p50)), p99: median(phases.map((p) => p.p99)) };
}

function medianLoad(loads: LoadResult[]): LoadResult {
  return { starts: medianPhase(loads.map((l) => l.starts)), messages: medianPhase(loads.map((l) => l.messages)) };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
