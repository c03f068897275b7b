/**
 * Service facts and their rollup (docs/rules.md §10). Every fact is written by the transaction that
 * changed the session — an assignment, a queue exit, a close, a transfer — never reconstructed
 * later. The same statement adds it to `service_rollup` (per shop-local day, agent, kind, detail and
 * response-time bucket), which is what reports read.
 */
import type { Knex } from 'knex';
import { BUCKETED_KINDS, bucketSql, figuresOf, type FactKind, type RollupRow, type ServiceFigures } from '../../domain/service-levels';
import type { PendingReplies } from '../../domain/conversation-machine';

/** A fact as a transaction writes it. `at` is when it happened (ISO); seconds: what it measures. */
export interface NewFact {
  sessionId: string;
  kind: FactKind;
  detail?: string | null;
  at: string;
  agentId?: string | null;
  seconds?: number | null;
  n?: number;
}

const bucketed = BUCKETED_KINDS.map((k) => `'${k}'`).join(', ');

/**
 * Data-modifying CTEs that record the rows of CTE `source` (session_id, kind, detail, at, agent_id,
 * seconds, n) as facts of shop `:shopId` and add them to the rollup. For statements that already
 * do the rest of the work in one round trip (routing's seat, the pool's assignment).
 */
export function recordFactsCtes(source: string): string {
  return `fact_rows AS (
  INSERT INTO session_facts (shop_id, session_id, kind, detail, at, agent_id, seconds, n)
  SELECT :shopId, session_id, kind, detail, at, agent_id, seconds, COALESCE(n, 1) FROM ${source}
  RETURNING kind, detail, at, agent_id, seconds, n),
fact_rollup AS (
  INSERT INTO service_rollup AS r (shop_id, day, agent_id, kind, detail, bucket, n, seconds, timed)
  SELECT :shopId, (f.at AT TIME ZONE sh.time_zone)::date, COALESCE(f.agent_id, ''), f.kind, COALESCE(f.detail, ''),
         CASE WHEN f.kind IN (${bucketed}) THEN ${bucketSql('f.seconds')} ELSE -1 END,
         sum(f.n), COALESCE(sum(f.seconds), 0), count(f.seconds)
  FROM fact_rows f JOIN shops sh ON sh.id = :shopId
  GROUP BY 2, 3, 4, 5, 6
  ON CONFLICT (shop_id, day, agent_id, kind, detail, bucket)
  DO UPDATE SET n = r.n + EXCLUDED.n, seconds = r.seconds + EXCLUDED.seconds, timed = r.timed + EXCLUDED.timed
  RETURNING 1)`;
}

const RECORD_FACTS_SQL = `
WITH src AS (
  SELECT * FROM jsonb_to_recordset(CAST(:facts AS jsonb))
    AS x(session_id text, kind text, detail text, at timestamptz, agent_id text, seconds double precision, n int)),
${recordFactsCtes('src')}
SELECT count(*) AS n FROM fact_rollup`;

/** Records facts of one shop inside the caller's transaction: one statement. */
export async function recordFacts(tx: Knex.Transaction, shopId: string, facts: readonly NewFact[]): Promise<void> {
  if (facts.length === 0) return;
  const rows = facts.map((f) => ({
    session_id: f.sessionId,
    kind: f.kind,
    detail: f.detail ?? null,
    at: f.at,
    agent_id: f.agentId ?? null,
    seconds: f.seconds ?? null,
    n: f.n ?? 1,
  }));
  await tx.raw(RECORD_FACTS_SQL, { shopId, facts: JSON.stringify(rows) });
}

const secondsBetween = (from: Date | string | number, to: string): number => (Date.parse(to) - new Date(from).getTime()) / 1000;

/** The facts a close leaves: the close itself (with the handle time), a queue exit, and the run's replies. */
export function closeFacts(c: {
  sessionId: string;
  reason: string;
  at: string;
  agentId: string | null;
  assignedAt: Date | null;
  queuedAt: Date | null;
  replies: PendingReplies | null | undefined;
}): NewFact[] {
  const facts: NewFact[] = [
    {
      sessionId: c.sessionId,
      kind: 'closed',
      detail: c.reason,
      at: c.at,
      agentId: c.agentId,
      seconds: c.agentId && c.assignedAt ? secondsBetween(c.assignedAt, c.at) : null,
    },
  ];
  if (c.queuedAt)
    facts.push({ sessionId: c.sessionId, kind: 'queue_wait', detail: c.reason, at: c.at, seconds: secondsBetween(c.queuedAt, c.at) });
  for (const f of c.replies?.first ?? []) {
    facts.push({
      sessionId: c.sessionId,
      kind: 'first_response',
      at: new Date(f.at).toISOString(),
      agentId: f.agentId,
      seconds: f.waitedMs / 1000,
    });
  }
  for (const s of c.replies?.slots ?? []) {
    facts.push({
      sessionId: c.sessionId,
      kind: 'response',
      at: new Date(s.slot).toISOString(),
      agentId: s.agentId,
      seconds: s.waitedMs / 1000,
      n: s.n,
    });
  }
  return facts;
}

/** A move away from an agent (transfer, re-route): the fact names who lost the session and the handle time it ended. */
export function moveFact(m: {
  sessionId: string;
  kind: 'transferred' | 'rerouted';
  detail: string | null;
  at: string;
  fromAgentId: string;
  fromAssignedAt: Date | string | null;
}): NewFact {
  return {
    sessionId: m.sessionId,
    kind: m.kind,
    detail: m.detail,
    at: m.at,
    agentId: m.fromAgentId,
    seconds: m.fromAssignedAt ? secondsBetween(m.fromAssignedAt, m.at) : null,
  };
}

export type ReportGrouping = 'day' | 'agent' | 'group';

/**
 * The rollup summed over shop-local days [fromDay, toDay] per key and (kind, detail, bucket): the
 * key is the day, the agent, or each group the agent belongs to now; '' gives the whole range.
 * agentId: only that agent's facts (an agent's own report).
 */
/** Memory one report query may use to group the rollup (per query, for its transaction only). */
const REPORT_WORK_MEM = '128MB';

export async function rollupRows(
  db: Knex,
  q: { shopId: string; fromDay: string; toDay: string; groupBy: ReportGrouping | 'total'; agentId?: string },
): Promise<RollupRow[]> {
  const key =
    q.groupBy === 'day'
      ? `to_char(r.day, 'YYYY-MM-DD')`
      : q.groupBy === 'agent'
        ? 'r.agent_id'
        : q.groupBy === 'group'
          ? 'm.group_id'
          : `''`;
  const join = q.groupBy === 'group' ? 'JOIN agent_group_members m ON m.agent_id = r.agent_id' : '';
  // A 92-day range of a busy shop groups ~10⁶ rollup rows: with the default work_mem (4 MB) Postgres
  // sorts them on disk (1.2–1.5 s measured); with room it hashes them in memory (0.6–0.7 s), by the
  // date itself rather than its text.
  const { rows } = await db.transaction(async (tx): Promise<{ rows: unknown[] }> => {
    await tx.raw(`SET LOCAL work_mem = '${REPORT_WORK_MEM}'`);
    return tx.raw(
      `SELECT ${key} AS key, r.kind, r.detail, r.bucket, sum(r.n)::float8 AS n, sum(r.seconds) AS seconds, sum(r.timed)::float8 AS timed
       FROM service_rollup r ${join}
      WHERE r.shop_id = :shopId AND r.day BETWEEN CAST(:fromDay AS date) AND CAST(:toDay AS date)
        ${q.agentId !== undefined ? 'AND r.agent_id = :agentId' : ''}
        ${q.groupBy === 'agent' ? `AND r.agent_id <> ''` : ''}
      GROUP BY ${q.groupBy === 'day' ? 'r.day' : '1'}, 2, 3, 4`,
      { shopId: q.shopId, fromDay: q.fromDay, toDay: q.toDay, ...(q.agentId !== undefined ? { agentId: q.agentId } : {}) },
    );
  });
  return (rows as { key: string; kind: FactKind; detail: string; bucket: number; n: number; seconds: number; timed: number }[]).map(
    (r) => ({ ...r, n: Number(r.n), seconds: Number(r.seconds), timed: Number(r.timed) }),
  );
}

/** A session's facts in the order they happened (the session read, and the scripted-day test). */
export async function listSessionFacts(db: Knex, shopId: string, sessionId: string) {
  const rows = await db('session_facts')
    .where({ shop_id: shopId, session_id: sessionId })
    .orderBy([{ column: 'at' }, { column: 'id' }]);
  return rows.map((r) => ({
    kind: r.kind as FactKind,
    detail: r.detail as string | null,
    at: (r.at as Date).toISOString(),
    agentId: r.agent_id as string | null,
    seconds: r.seconds === null ? null : Number(r.seconds),
    n: Number(r.n),
  }));
}

/** The shop-local days from `fromDay` to `toDay`, both included (YYYY-MM-DD). */
export function daysBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= Date.parse(`${toDay}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export interface ServiceReportRow extends ServiceFigures {
  key: string;
  /** The agent's or group's name; the day itself for days. */
  label: string;
}

/**
 * A service report (docs/rules.md §10.2): the figures for the whole range and per day (every day,
 * zeros included), per agent, or per group (its current members' figures). agentId: an agent's own.
 */
export async function serviceReport(
  db: Knex,
  q: { shopId: string; fromDay: string; toDay: string; groupBy: ReportGrouping; agentId?: string },
): Promise<{ totals: ServiceFigures; rows: ServiceReportRow[] }> {
  // Days partition the range, so its totals are the days' rows summed; agents leave out facts with no
  // agent and groups count an agent once per group, so those read the range's totals on their own.
  const [grouped, separateTotal] = await Promise.all([
    rollupRows(db, q),
    q.groupBy === 'day' ? null : rollupRows(db, { ...q, groupBy: 'total' }),
  ]);
  const total = separateTotal ?? grouped;
  const byKey = new Map<string, RollupRow[]>();
  for (const r of grouped) {
    const list = byKey.get(r.key);
    if (list) list.push(r);
    else byKey.set(r.key, [r]);
  }
  let keys: { key: string; label: string }[];
  if (q.groupBy === 'day') keys = daysBetween(q.fromDay, q.toDay).map((d) => ({ key: d, label: d }));
  else {
    const table = q.groupBy === 'agent' ? 'agents' : 'agent_groups';
    const names = new Map<string, string>(
      (
        await db(table)
          .where({ shop_id: q.shopId })
          .whereIn('id', [...byKey.keys()])
          .select('id', 'name')
      ).map((r) => [r.id, r.name]),
    );
    keys = [...byKey.keys()].sort().map((key) => ({ key, label: names.get(key) ?? key }));
  }
  return {
    totals: figuresOf(total),
    rows: keys.map(({ key, label }) => ({ key, label, ...figuresOf(byKey.get(key) ?? []) })),
  };
}
