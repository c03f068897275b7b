/**
 * Service levels (docs/rules.md §10): which facts a session's service leaves, how response times are
 * bucketed, and how a report's figures are computed from the rollup. Pure: the SQL that records
 * facts (db/repositories/service-facts.ts) and the report route call these.
 */

/** What a fact records. `detail` and `seconds` per kind are listed in docs/rules.md §10.1. */
export const FACT_KINDS = [
  'assigned', // an agent took the session; seconds: time to a human (first assignment only)
  'queue_wait', // the session left the queue; detail: assigned | left_queue | queue_timeout | …
  'pool_created', // an offline message was created (or re-opened); detail: origin
  'pool_assigned', // an offline message was assigned; detail: auto | manual; seconds: time in the pool
  'first_response', // the agent's first reply after an assignment; seconds: since the buyer waited
  'response', // agent replies (first and later), summed per quarter hour; n of them, seconds in total
  'closed', // detail: close reason; agent: who held it; seconds: handle time (assignment → close)
  'transferred', // agent: who handed it over; detail: to whom; seconds: the handle time it ended
  'rerouted', // agent: who lost it; detail: agent_left | no_first_reply; seconds: the handle time it ended
] as const;
export type FactKind = (typeof FACT_KINDS)[number];

/** The kinds whose durations are bucketed, so percentiles can be read from the rollup. */
export const BUCKETED_KINDS: readonly FactKind[] = ['first_response', 'queue_wait'];

/**
 * Response-time buckets: whole seconds below 10 min, 10 s below 1 h, whole minutes below a day,
 * one bucket beyond. A percentile is read as its bucket's lower bound, so below 10 min it is exact
 * to the second.
 */
const BUCKET_STEPS = [
  { upTo: 600, width: 1 },
  { upTo: 3600, width: 10 },
  { upTo: 86_400, width: 60 },
] as const;

/** Each step with where it starts, in seconds and in bucket numbers; the bucket past the last is LAST_BUCKET. */
const BUCKET_RANGES = BUCKET_STEPS.map((step, i) => {
  const from = i === 0 ? 0 : BUCKET_STEPS[i - 1].upTo;
  const base = BUCKET_STEPS.slice(0, i).reduce((n, s, j) => n + (s.upTo - (j === 0 ? 0 : BUCKET_STEPS[j - 1].upTo)) / s.width, 0);
  return { ...step, from, base, count: (step.upTo - from) / step.width };
});
const LAST = BUCKET_RANGES[BUCKET_RANGES.length - 1];
const LAST_BUCKET = LAST.base + LAST.count;

export function bucketOf(seconds: number): number {
  const r = BUCKET_RANGES.find((x) => seconds < x.upTo);
  return r ? r.base + Math.floor((Math.max(seconds, 0) - r.from) / r.width) : LAST_BUCKET;
}

export function bucketLowerBound(bucket: number): number {
  const r = BUCKET_RANGES.find((x) => bucket < x.base + x.count);
  return r ? r.from + (bucket - r.base) * r.width : LAST.upTo;
}

/** bucketOf as a SQL expression over `expr` (seconds, double precision): the same ranges, one source. */
export function bucketSql(expr: string): string {
  const arms = BUCKET_RANGES.map(
    (r) => `WHEN ${expr} < ${r.upTo} THEN ${r.base} + floor((GREATEST(${expr}, 0) - ${r.from}) / ${r.width})::int`,
  );
  return `(CASE ${arms.join(' ')} ELSE ${LAST_BUCKET} END)`;
}

/** Shares of first responses reported: within 30 s (JD's badge) and within 3 min. */
export const FIRST_RESPONSE_WITHIN_SECONDS = [30, 180] as const;

/** The longest range one report may cover (docs/api.md). */
export const REPORT_MAX_DAYS = 92;

/** The report range: both days given, or the last 7 shop-local days up to `today`; refused past REPORT_MAX_DAYS. */
export function reportRange(q: { from?: string; to?: string }, today: string): { fromDay: string; toDay: string } | { refusal: string } {
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
  const toDay = q.to ?? (q.from !== undefined ? addDays(q.from, REPORT_DEFAULT_DAYS - 1) : today);
  const fromDay = q.from ?? addDays(toDay, -(REPORT_DEFAULT_DAYS - 1));
  // A default end computed past 9999-12-31 (or a start before year 1) is no calendar day Postgres stores.
  if ([fromDay, toDay].some((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || d < '0001-01-01'))
    return { refusal: 'the range must lie within years 1–9999' };
  if (day(fromDay) > day(toDay)) return { refusal: `from (${fromDay}) is after to (${toDay})` };
  const days = (day(toDay) - day(fromDay)) / 86_400_000 + 1;
  if (days > REPORT_MAX_DAYS) return { refusal: `the range covers ${days} days; at most ${REPORT_MAX_DAYS}` };
  return { fromDay, toDay };
}

const REPORT_DEFAULT_DAYS = 7;
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** Later replies are summed per quarter hour: every time zone's midnight falls on one, so days stay exact. */
export const RESPONSE_SLOT_MS = 15 * 60_000;
export const responseSlotOf = (atMs: number): number => Math.floor(atMs / RESPONSE_SLOT_MS) * RESPONSE_SLOT_MS;

/** One rollup row as the report reads it (summed over the range for one key). */
export interface RollupRow {
  key: string;
  kind: FactKind;
  detail: string;
  bucket: number;
  n: number;
  seconds: number;
  timed: number;
}

/** Nearest-rank percentile over bucket counts: the lower bound of the bucket holding rank ⌈p·N⌉. */
export function percentileOf(buckets: ReadonlyMap<number, number>, p: number): number | null {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
    seen += buckets.get(b)!;
    if (seen >= rank) return bucketLowerBound(b);
  }
  return null;
}

export interface ServiceFigures {
  sessionsServed: number;
  avgTimeToHumanSeconds: number | null;
  firstResponse: {
    count: number;
    p50Seconds: number | null;
    p90Seconds: number | null;
    within30sShare: number | null;
    within3minShare: number | null;
  };
  responses: number;
  avgResponseSeconds: number | null;
  queueWait: { served: number; p50Seconds: number | null; p90Seconds: number | null };
  abandoned: { leftQueue: number; queueTimeout: number };
  agentReplyTimeouts: number;
  avgHandleSeconds: number | null;
  offlineMessages: { created: number; assignedAuto: number; assignedManual: number };
  transfers: number;
  reroutes: number;
}

const avg = (sum: number, n: number): number | null => (n > 0 ? Math.round((sum / n) * 10) / 10 : null); // to 0.1 s
const share = (part: number, n: number): number | null => (n > 0 ? Math.round((part / n) * 10_000) / 10_000 : null);

/** The figures of one key (a day, an agent, a group, or the whole range) from its rollup rows. */
export function figuresOf(rows: readonly RollupRow[]): ServiceFigures {
  const of = (kind: FactKind, detail?: string) => rows.filter((r) => r.kind === kind && (detail === undefined || r.detail === detail));
  const sum = (list: readonly RollupRow[], field: 'n' | 'seconds' | 'timed') => list.reduce((a, r) => a + r[field], 0);
  const count = (kind: FactKind, detail?: string) => sum(of(kind, detail), 'n');
  const mean = (list: readonly RollupRow[]) => avg(sum(list, 'seconds'), sum(list, 'timed'));
  const histogram = (list: readonly RollupRow[]) => {
    const m = new Map<number, number>();
    for (const r of list) m.set(r.bucket, (m.get(r.bucket) ?? 0) + r.n);
    return m;
  };
  const frt = histogram(of('first_response'));
  const frtCount = count('first_response');
  // Whole seconds: "within 30 s" is a reply less than 31 s after the buyer began to wait.
  const within = (limit: number) => [...frt].filter(([b]) => b <= bucketOf(limit)).reduce((a, [, n]) => a + n, 0);
  const queue = histogram(of('queue_wait', 'assigned'));
  return {
    sessionsServed: count('assigned'),
    avgTimeToHumanSeconds: mean(of('assigned')),
    firstResponse: {
      count: frtCount,
      p50Seconds: percentileOf(frt, 0.5),
      p90Seconds: percentileOf(frt, 0.9),
      within30sShare: share(within(FIRST_RESPONSE_WITHIN_SECONDS[0]), frtCount),
      within3minShare: share(within(FIRST_RESPONSE_WITHIN_SECONDS[1]), frtCount),
    },
    responses: count('response'),
    avgResponseSeconds: avg(sum(of('response'), 'seconds'), count('response')),
    queueWait: { served: count('queue_wait', 'assigned'), p50Seconds: percentileOf(queue, 0.5), p90Seconds: percentileOf(queue, 0.9) },
    abandoned: { leftQueue: count('closed', 'left_queue'), queueTimeout: count('closed', 'queue_timeout') },
    agentReplyTimeouts: count('closed', 'agent_reply_timeout'),
    avgHandleSeconds: mean(of('closed')),
    offlineMessages: {
      created: count('pool_created'),
      assignedAuto: count('pool_assigned', 'auto'),
      assignedManual: count('pool_assigned', 'manual'),
    },
    transfers: count('transferred'),
    reroutes: count('rerouted'),
  };
}
