/**
 * `npm run bench:handoffs [-- --transfers N --sessions S --rounds R]`
 *
 * What an agent waits for in a handoff, end to end through the real HTTP API (loopback), worker,
 * outbox relay, Temporal dev server and Postgres:
 * - transfer: POST …/transfer answered (the new agent's desk hears session.transferred from that
 *   commit), and the session's run holding the new agent (its timers follow);
 * - agent left: an agent holding S sessions goes offline (grace 0) until every one of the S runs
 *   follows its session to another agent (shop run timer → one re-route transaction → S signals).
 * The floor, in the same run: for the answer, PATCH of an agent's capacity (same auth, one
 * transaction under the shop's routing lock); for the runs, a signal to a do-nothing run and a query
 * that sees it (one per session, S at once for the agent-left case).
 */

import { createAgent } from '../db/repositories/agents';
import { saveSessionSettings } from '../db/repositories/session-settings';
import { createShop } from '../db/repositories/shops';
import { queryConversation } from '../temporal/session-gateway';

import {
  BENCH_NOOP_QUEUE,
  BENCH_REAL_QUEUE,
  arg,
  machineLine,
  percentile,
  runLimited,
  startBenchApi,
  startBenchInfra,
  startBenchWorkers,
} from './support';

const TRANSFERS = arg('transfers', 100);
const SESSIONS = arg('sessions', 50);
const ROUNDS = arg('rounds', 3);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

async function main(): Promise<void> {
  const infra = await startBenchInfra({ withTemporal: true });
  const figures = {
    answer: [] as number[],
    follow: [] as number[],
    floorAnswer: [] as number[],
    floorFollow: [] as number[],
    left: [] as number[],
    floorLeft: [] as number[],
  };
  try {
    const env = infra.env!;
    const { db } = infra;
    const workers = await startBenchWorkers(infra);
    const { app, base } = await startBenchApi(db, env.client, BENCH_REAL_QUEUE);
    const call = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const floorRun = async (id: string) => {
      const handle = await env.client.workflow.start('signalCountingNoopWorkflow', {
        workflowId: id,
        taskQueue: BENCH_NOOP_QUEUE,
        args: [],
      });
      return handle;
    };

    for (let round = 0; round < ROUNDS; round++) {
      // --- transfers: A holds TRANSFERS sessions; each goes to B, one at a time (an agent's click).
      const shopId = `bench-tr-${round}`;
      const key = (await createShop(db, { id: shopId, name: shopId, timeZone: 'Asia/Shanghai' }))!.apiKey;
      const a = await createAgent(db, shopId, { name: 'A', capacity: TRANSFERS, status: 'online' });
      const ids = Array.from({ length: TRANSFERS }, (_, i) => `t${i}`);
      await runLimited(
        ids.map(
          (id) => () =>
            call(key, 'POST', `/${shopId}/sessions`, { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true }).then(
              () => undefined,
            ),
        ),
        16,
      );
      const b = await createAgent(db, shopId, { name: 'B', capacity: TRANSFERS, status: 'online' });
      for (const id of ids) {
        const t0 = performance.now();
        await call(key, 'POST', `/${shopId}/sessions/${id}/transfer`, { toAgentId: b.id, note: 'bench' });
        figures.answer.push(performance.now() - t0);
        await waitFor(async () => (await queryConversation(env.client, shopId, id)).agentId === b.id, `run ${id} follows`);
        figures.follow.push(performance.now() - t0);
      }
      // Floor: the same HTTP path shape and one routing-lock transaction; then a signal a run sees.
      for (let i = 0; i < TRANSFERS; i++) {
        const t0 = performance.now();
        await call(key, 'PATCH', `/${shopId}/agents/${a.id}`, { capacity: TRANSFERS + (i % 2) });
        figures.floorAnswer.push(performance.now() - t0);
      }
      const floorHandle = await floorRun(`floor-transfer-${round}`);
      await floorHandle.query<number>('signals');
      for (let i = 0; i < TRANSFERS; i++) {
        const t0 = performance.now();
        await floorHandle.signal('agentTransferred', {});
        await waitFor(async () => (await floorHandle.query<number>('signals')) === i + 1, 'floor signal seen');
        figures.floorFollow.push(performance.now() - t0);
      }

      // --- an agent with SESSIONS sessions goes offline, no grace: all of them re-routed.
      const leftShop = `bench-left-${round}`;
      const leftKey = (await createShop(db, { id: leftShop, name: leftShop, timeZone: 'Asia/Shanghai' }))!.apiKey;
      await saveSessionSettings(db, leftShop, { buyerIdleMinutes: 20, agentLeft: { mode: 'reroute', graceMinutes: 0 } }, 'bench');
      const leaver = await createAgent(db, leftShop, { name: 'Leaver', capacity: SESSIONS, status: 'online' });
      const leftIds = Array.from({ length: SESSIONS }, (_, i) => `l${i}`);
      await runLimited(
        leftIds.map(
          (id) => () =>
            call(leftKey, 'POST', `/${leftShop}/sessions`, { sessionId: id, buyerId: `b-${id}`, topic: 'presales', wantsHuman: true }).then(
              () => undefined,
            ),
        ),
        16,
      );
      for (let i = 0; i < 5; i++)
        await createAgent(db, leftShop, { name: `Other${i}`, capacity: Math.ceil(SESSIONS / 5), status: 'online' });
      const t0 = performance.now();
      await call(leftKey, 'PATCH', `/${leftShop}/agents/${leaver.id}`, { status: 'offline' });
      await waitFor(async () => {
        const views = await Promise.all(leftIds.map((id) => queryConversation(env.client, leftShop, id)));
        return views.every((v) => v.agentId !== null && v.agentId !== leaver.id);
      }, 'every run follows its re-routed session');
      figures.left.push(performance.now() - t0);
      const floorHandles = await Promise.all(leftIds.map((id) => floorRun(`floor-left-${round}-${id}`)));
      // Started and idle (first task done, cached), as the real runs were.
      await Promise.all(floorHandles.map((h) => h.query<number>('signals')));
      const f0 = performance.now();
      await Promise.all(floorHandles.map((h) => h.signal('sessionRerouted', {})));
      await waitFor(
        async () => (await Promise.all(floorHandles.map((h) => h.query<number>('signals')))).every((n) => n === 1),
        'floor signals seen',
      );
      figures.floorLeft.push(performance.now() - f0);
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    await app.close();
    await workers.stop();
  } catch (err) {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    throw err;
  } finally {
    await infra.stop();
  }

  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const dist = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `p50 ${ms(percentile(s, 50))}, p99 ${ms(percentile(s, 99))}`;
  };
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  console.log(
    `\nbench:handoffs — ${TRANSFERS} transfers one at a time and an agent leaving with ${SESSIONS} sessions, ${ROUNDS} rounds, Temporal dev server + embedded Postgres on loopback`,
  );
  console.log(machineLine());
  console.log(`transfer answered           ${dist(figures.answer)}   (floor, PATCH agent: ${dist(figures.floorAnswer)})`);
  console.log(`transfer → run follows      ${dist(figures.follow)}   (floor, signal seen: ${dist(figures.floorFollow)})`);
  console.log(
    `agent left → ${SESSIONS} runs follow  median ${ms(median(figures.left))} of ${figures.left.map(ms).join(', ')}   (floor, ${SESSIONS} signals seen: median ${ms(median(figures.floorLeft))})`,
  );
}

void main().then(
  () => process.exit(0),
  () => process.exit(1),
);
