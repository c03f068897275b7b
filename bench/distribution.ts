/**
 * `npm run bench:distribution [-- --trials N]`
 *
 * A pool of 1,000,000 offline messages over 1,000 shops; one shop with 20,000 eligible messages and
 * 200 online agents; one distribution run that assigns 5,000 (200 × cap 25). Each trial times the
 * run and, on the very same 5,000 messages, the floor: the bare SQL that writes the same
 * assignments and records (messages, records, agent load, sessions, outbox, run row), committed the
 * same way. Both are undone between measurements, so every trial starts from the same pool.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createAgent, createGroup } from '../db/repositories/agents';
import { distributeOfflineMessages } from '../db/repositories/distribution';
import { createShop } from '../db/repositories/shops';
import { OFFLINE_ASSIGNMENT_REASON, SYSTEM_OPERATOR } from '../domain/assignment';
import { DEFAULT_DISTRIBUTION_SETTINGS, type DistributionSettings } from '../domain/distribution';
import { step } from '../infra/provision/progress';
import { arg, machineLine, percentile, startBenchInfra } from './support';

const TRIALS = arg('trials', 5);
const SHOPS = 1000;
const TOTAL_MESSAGES = 1_000_000;
const TARGET_ELIGIBLE = 20_000;
const AGENTS = 200;
const CAP = 25;
const TARGET = 'bench-target';

async function seed(db: Knex): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < SHOPS - 1; i++) await db('shops').insert({ id: `bench-${i}`, name: `Shop ${i}` });
  await createShop(db, { id: TARGET, name: 'Target', timeZone: 'Asia/Shanghai' });
  // Other shops: the rest of the million, spread over the last two days.
  const others = TOTAL_MESSAGES - TARGET_ELIGIBLE;
  await db.raw(
    `INSERT INTO offline_messages (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, origin, created_at)
     SELECT 'bench-' || (i % ?), 's' || i, 'b' || i, CASE WHEN i % 3 = 0 THEN 'aftersales' ELSE 'presales' END, i % 2 = 0, true,
            'no_agent_online', now() - (i % 172800) * interval '1 second'
     FROM generate_series(1, ?) AS i`,
    [SHOPS - 1, others],
  );
  // The target shop: 20,000 eligible (human-requested, last 24 h) with their sessions.
  await db.raw(
    `INSERT INTO sessions (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, policy, settings_version, settings_snapshot, status, created_at)
     SELECT ?, 't' || i, 'tb' || i, 'presales', true, false, 'current', 0,
            '{"settingsVersion":0,"policy":"current","buyerIdleMinutes":20,"agentReplyTimeoutMs":21600000,"queueTimeoutMs":86400000}', 'offline',
            now() - (i * 4) * interval '1 second'
     FROM generate_series(1, ?) AS i`,
    [TARGET, TARGET_ELIGIBLE],
  );
  await db.raw(
    `INSERT INTO offline_messages (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, origin, created_at)
     SELECT shop_id, session_id, buyer_id, topic, true, false, 'no_agent_online', created_at FROM sessions WHERE shop_id = ?`,
    [TARGET],
  );
  const ids: string[] = [];
  for (let i = 0; i < AGENTS; i++)
    ids.push((await createAgent(db, TARGET, { name: `A${i}`, capacity: 5, status: 'online', id: `bench-agent-${i}` })).id);
  await createGroup(db, TARGET, { name: 'Pre-sales', scopes: ['presales'], agentIds: ids });
  await db.raw('ANALYZE');
  step(`seeded ${TOTAL_MESSAGES.toLocaleString()} messages over ${SHOPS} shops in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Puts the pool back as it was before a measurement. */
async function undo(db: Knex): Promise<void> {
  await db.transaction(async (tx) => {
    await tx('offline_messages')
      .where({ shop_id: TARGET })
      .whereNot({ status: 'pending' })
      .update({ status: 'pending', agent_id: null, resolved_at: null, skip_reason: null });
    await tx('assignment_records').where({ shop_id: TARGET }).delete();
    await tx('outbox').where({ shop_id: TARGET }).delete();
    await tx('distribution_runs').where({ shop_id: TARGET }).delete();
    await tx('agents').where({ shop_id: TARGET }).update({ active_sessions: 0, last_assigned_at: null });
    await tx('sessions').where({ shop_id: TARGET }).update({ status: 'offline', agent_id: null, assigned_at: null });
  });
}

/** The floor: the same writes as a run, as bare statements with the choice of messages and agents made up front. */
async function floor(db: Knex, plan: { id: number; session_id: string; agent_id: string }[], at: string): Promise<number> {
  const t0 = performance.now();
  await db.transaction(async (tx) => {
    const [{ id: runId }] = await tx('distribution_runs')
      .insert({ shop_id: TARGET, trigger: 'manual', run_key: randomUUID(), settings: '{}', outcome: 'succeeded', started_at: at })
      .returning('id');
    const planJson = JSON.stringify(plan);
    await tx.raw(
      `WITH p AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS p(id bigint, session_id text, agent_id text)),
            u AS (UPDATE offline_messages o SET status = 'assigned', agent_id = p.agent_id, resolved_at = ? FROM p WHERE o.id = p.id RETURNING o.id, o.session_id, o.agent_id)
       INSERT INTO assignment_records (shop_id, offline_message_id, session_id, agent_id, operator, kind, outcome, reason, run_id, created_at)
       SELECT ?, id, session_id, agent_id, ?, 'auto', 'assigned', ?, ?, ? FROM u`,
      [planJson, at, TARGET, SYSTEM_OPERATOR, OFFLINE_ASSIGNMENT_REASON, runId, at],
    );
    await tx.raw(
      `UPDATE agents a SET active_sessions = a.active_sessions + v.n, last_assigned_at = ?
       FROM (SELECT p.agent_id, count(*) AS n FROM jsonb_to_recordset(?::jsonb) AS p(agent_id text) GROUP BY 1) v WHERE a.id = v.agent_id`,
      [at, planJson],
    );
    await tx.raw(
      `UPDATE sessions s SET status = 'active', agent_id = p.agent_id, assigned_at = ?
       FROM jsonb_to_recordset(?::jsonb) AS p(session_id text, agent_id text) WHERE s.shop_id = ? AND s.session_id = p.session_id`,
      [at, planJson, TARGET],
    );
    await tx.raw(
      `INSERT INTO outbox (shop_id, kind, payload)
       SELECT ?, 'offline_assigned', jsonb_build_object('workflowId', 'conversation:' || ? || ':' || p.session_id, 'agentId', p.agent_id)
       FROM jsonb_to_recordset(?::jsonb) AS p(session_id text, agent_id text)`,
      [TARGET, TARGET, planJson],
    );
    await tx('distribution_runs')
      .where({ id: runId })
      .update({ assigned_count: plan.length, eligible_count: TARGET_ELIGIBLE, finished_at: at });
  });
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const infra = await startBenchInfra({ withTemporal: false });
  const runTimes: number[] = [];
  const floorTimes: number[] = [];
  let assigned = 0;
  // Stop Postgres even when the benchmark fails.
  try {
    const { db } = infra;
    await seed(db);
    const settings: DistributionSettings = { ...DEFAULT_DISTRIBUTION_SETTINGS, perAgentCap: CAP };
    for (let t = 0; t < TRIALS; t++) {
      const at = new Date().toISOString();
      const t0 = performance.now();
      const run = await distributeOfflineMessages(db, {
        shopId: TARGET,
        trigger: 'manual',
        slot: null,
        runKey: randomUUID(),
        at,
        settings,
        settingsVersion: 0,
      });
      runTimes.push(performance.now() - t0);
      assigned = run.assignedCount;
      if (run.assignedCount !== 5000 || run.eligibleCount !== TARGET_ELIGIBLE)
        throw new Error(`unexpected run: ${JSON.stringify({ ...run, settings: undefined })}`);
      // The floor writes exactly what this run wrote.
      const plan: { id: number; session_id: string; agent_id: string }[] = await db('offline_messages')
        .where({ shop_id: TARGET, status: 'assigned' })
        .select('id', 'session_id', 'agent_id');
      await undo(db);
      floorTimes.push(await floor(db, plan, at));
      await undo(db);
    }
  } finally {
    await infra.stop();
  }

  runTimes.sort((a, b) => a - b);
  floorTimes.sort((a, b) => a - b);
  const runMedian = percentile(runTimes, 50);
  const floorMedian = percentile(floorTimes, 50);
  const lines = [
    `bench:distribution — ${TOTAL_MESSAGES.toLocaleString()} pool messages over ${SHOPS} shops; target shop: ${TARGET_ELIGIBLE.toLocaleString()} eligible, ${AGENTS} online agents, cap ${CAP} → ${assigned} assigned per run; ${TRIALS} trials, embedded Postgres`,
    machineLine(),
    `distribution run   median ${runMedian.toFixed(0)} ms   (min ${runTimes[0].toFixed(0)}, max ${runTimes.at(-1)!.toFixed(0)})`,
    `floor (bare SQL)   median ${floorMedian.toFixed(0)} ms   (min ${floorTimes[0].toFixed(0)}, max ${floorTimes.at(-1)!.toFixed(0)})`,
    `ratio run / floor  ${(runMedian / floorMedian).toFixed(2)}   (goal ≤ 2.00, and the run under 1000 ms)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
