/**
 * `npm run bench:sessions [-- --sessions N --messages M --concurrency C --rounds R --shape dev|cluster --workers W]`
 *
 * Starts N sessions of each kind through the real HTTP API (loopback), worker and Temporal dev
 * server — bot-only (no human asked for), routed to a free agent, and queued behind full agents —
 * and, beside them, the same start against a do-nothing workflow (same API path and update-with-start,
 * another task queue): the floor. Then M messages per session for the bot-only sessions and the floor.
 * Prints throughput and p50/p99 of each, and the ratios to the floor. The loads alternate for R rounds,
 * each round starting with the next kind, and each figure is the median over the rounds: on a shared
 * 2-core machine a single stall would otherwise decide the ratio.
 */

import { createAgent } from '../db/repositories/agents';
import { createShop } from '../db/repositories/shops';
import { AGENT_CAPACITY_MAX } from '../domain/limits';

import {
  BENCH_NOOP_QUEUE,
  BENCH_REAL_QUEUE,
  arg,
  machineLine,
  percentile,
  runLimited,
  shapeLine,
  startBenchApi,
  startBenchInfra,
  startBenchWorkers,
} from './support';

const SESSIONS = arg('sessions', 200);
const MESSAGES = arg('messages', 10);
const CONCURRENCY = arg('concurrency', 32);
const ROUNDS = arg('rounds', 8);

interface PhaseResult {
  perSecond: number;
  p50: number;
  p99: number;
}

type Kind = 'floor' | 'bot-only' | 'routed' | 'queued';
const KINDS: Kind[] = ['floor', 'bot-only', 'routed', 'queued'];

async function main(): Promise<void> {
  const infra = await startBenchInfra({ withTemporal: true });
  const starts: Record<Kind, PhaseResult[]> = { floor: [], 'bot-only': [], routed: [], queued: [] };
  const messages: Record<'floor' | 'bot-only', PhaseResult[]> = { floor: [], 'bot-only': [] };
  // Stop Postgres and Temporal even when the benchmark fails.
  try {
    const env = infra.env!;
    const { db } = infra;
    const shop = async (id: string) => {
      const created = await createShop(db, { id, name: id, timeZone: 'Asia/Shanghai' });
      if (!created) throw new Error(`shop ${id} exists`);
      return created.apiKey;
    };
    const keys: Record<Kind, string> = {
      floor: await shop('bench-floor'),
      'bot-only': await shop('bench-bot'),
      routed: await shop('bench-routed'),
      queued: await shop('bench-queued'),
    };
    // Enough free seats for every routed start of every round; one full agent makes the others queue.
    const seatsNeeded = SESSIONS * (ROUNDS + 1);
    for (let i = 0; i * AGENT_CAPACITY_MAX < seatsNeeded; i++)
      await createAgent(db, 'bench-routed', { name: `r${i}`, capacity: AGENT_CAPACITY_MAX, status: 'online' });
    await createAgent(db, 'bench-queued', { name: 'full', capacity: 0, status: 'online' });

    const workers = await startBenchWorkers(infra);
    const real = await startBenchApi(db, env.client, BENCH_REAL_QUEUE);
    const noop = await startBenchApi(db, env.client, BENCH_NOOP_QUEUE);
    const apps = { real: real.app, noop: noop.app };
    const bases = { real: real.base, noop: noop.base };
    const shopOf: Record<Kind, string> = { floor: 'bench-floor', 'bot-only': 'bench-bot', routed: 'bench-routed', queued: 'bench-queued' };
    const bodyOf: Record<Kind, object> = {
      floor: {},
      'bot-only': { botEngaged: true },
      routed: { wantsHuman: true },
      queued: { wantsHuman: true },
    };
    const post = async (kind: Kind, path: string, body: unknown, expect?: (json: { session?: { status?: string } }) => boolean) => {
      const base = kind === 'floor' ? bases.noop : bases.real;
      const res = await fetch(`${base}/${shopOf[kind]}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[kind]}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      const json = (await res.json()) as { session?: { status?: string } };
      if (expect && !expect(json)) throw new Error(`${kind} start ended ${json.session?.status}, not as a ${kind} session`);
    };
    const wanted: Record<Kind, string | null> = { floor: null, 'bot-only': 'open', routed: 'active', queued: 'queued' };

    const startAll = async (kind: Kind, prefix: string): Promise<{ phase: PhaseResult; ids: string[] }> => {
      const ids = Array.from({ length: SESSIONS }, (_, i) => `${prefix}-${i}`);
      const t0 = performance.now();
      const lat = await runLimited(
        ids.map(
          (id) => () =>
            post(
              kind,
              '/sessions',
              { sessionId: id, buyerId: `b-${id}`, topic: 'presales', ...bodyOf[kind] },
              wanted[kind] ? (j) => j.session?.status === wanted[kind] : undefined,
            ),
        ),
        CONCURRENCY,
      );
      const secs = (performance.now() - t0) / 1000;
      return { phase: { perSecond: SESSIONS / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) }, ids };
    };
    const messageAll = async (kind: 'floor' | 'bot-only', ids: string[]): Promise<PhaseResult> => {
      const tasks = ids.flatMap((id) =>
        Array.from(
          { length: MESSAGES },
          (_, m) => () => post(kind, `/sessions/${id}/messages`, { from: m % 2 ? 'agent' : 'buyer', messageId: `m${m}` }),
        ),
      );
      const t0 = performance.now();
      const lat = await runLimited(tasks, CONCURRENCY);
      return { perSecond: tasks.length / ((performance.now() - t0) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99) };
    };

    // Warm-up (bundles loaded, connections open), then the measured rounds.
    for (const kind of KINDS) await startAll(kind, `warm-${kind}`);
    for (let round = 0; round < ROUNDS; round++) {
      const idsOf: Partial<Record<Kind, string[]>> = {};
      // Each round starts with another kind, so no kind always runs first or last.
      const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]);
      for (const kind of order) {
        const { phase, ids } = await startAll(kind, `${kind}-${round}`);
        starts[kind].push(phase);
        idsOf[kind] = ids;
      }
      messages.floor.push(await messageAll('floor', idsOf.floor!));
      messages['bot-only'].push(await messageAll('bot-only', idsOf['bot-only']!));
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    await apps.real.close();
    await apps.noop.close();
    await workers.stop();
  } catch (err) {
    // Said before teardown, whose own complaints would hide it.
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    throw err;
  } finally {
    await infra.stop();
  }

  // Ratios are taken within each round (the floor ran minutes apart at most) and then the median:
  // the shared machine's speed drifts between rounds more than the kinds differ.
  const ratio = (of: PhaseResult[], to: PhaseResult[], f: (r: PhaseResult) => number) => median(of.map((r, i) => f(r) / f(to[i]!)));
  const cell = (r: PhaseResult) => `${r.perSecond.toFixed(1).padStart(10)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}`;
  const lines = [
    `bench:sessions — ${SESSIONS} starts of each kind, then ${MESSAGES} messages each (bot-only and floor), ${CONCURRENCY} concurrent HTTP calls, ${ROUNDS} alternating rounds, ${shapeLine()} + embedded Postgres on loopback`,
    machineLine(),
    `${'start'.padEnd(34)} ${'starts/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   ${'× floor/s'.padStart(9)} ${'p99 × floor'.padStart(11)}`,
    ...KINDS.map((kind) => {
      const r = medianPhase(starts[kind]);
      const label = kind === 'floor' ? 'floor: do-nothing update-with-start' : `conversation, ${kind}`;
      const perSecond = ratio(starts[kind], starts.floor, (x) => x.perSecond);
      const p99 = ratio(starts[kind], starts.floor, (x) => x.p99);
      return `${label.padEnd(34)} ${cell(r)}   ${perSecond.toFixed(2).padStart(9)} ${p99.toFixed(2).padStart(11)}`;
    }),
    `goal for every kind: ≥ 0.80 × floor throughput and p99 ≤ 1.50 × floor p99`,
    `ratios are medians of each round's ratio to that round's floor; starts/s per round: ${KINDS.map((kind) => `${kind} ${starts[kind].map((r) => r.perSecond.toFixed(0)).join('/')}`).join(', ')}`,
    `${'messages (signals)'.padEnd(34)} ${'signals/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
    `${'floor'.padEnd(34)} ${cell(medianPhase(messages.floor))}`,
    `${'conversation, bot-only'.padEnd(34)} ${cell(medianPhase(messages['bot-only']))}   ratio ${ratio(messages['bot-only'], messages.floor, (x) => x.perSecond).toFixed(2)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianPhase(phases: PhaseResult[]): PhaseResult {
  return {
    perSecond: median(phases.map((p) => p.perSecond)),
    p50: median(phases.map((p) => p.p50)),
    p99: median(phases.map((p) => p.p99)),
  };
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
