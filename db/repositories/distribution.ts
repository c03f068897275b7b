/**
 * Offline-message distribution (docs/rules.md §3): one transaction of set-based statements under the shop's
 * routing lock. Scheduled runs are keyed by (shop, slot), so a retried activity returns the run it
 * already made; each pool message is assigned at most once (row locks + a unique index on records).
 * A dry run executes the very same statements and rolls them back.
 */
import type { Knex } from 'knex';
import type { DistributionRun } from '../../contracts/shapes';
import { assignmentIdOf, OFFLINE_ASSIGNMENT_REASON, SYSTEM_OPERATOR, type AssignmentRecordKind } from '../../domain/assignment';
import {
  candidatesByTopic,
  eligibleSince,
  planRun,
  runOutcome,
  SKIP_BUYER_REACHED_HUMAN,
  spreadRoundRobin,
  type DistributionFailure,
  type DistributionSettings,
} from '../../domain/distribution';
import { DomainError } from '../../domain/errors';
import { conversationWorkflowId } from '../../domain/temporal-names';
import { appendEvent, EVENTS_CHANNEL } from './events';
import { OUTBOX_CHANNEL } from './outbox';
import { lockShopRouting } from './routing';
import { recordFactsCtes } from './service-facts';

export type DistributionTrigger = 'scheduled' | 'manual' | 'agent_available';

export interface DistributionRequest {
  shopId: string;
  trigger: DistributionTrigger;
  /** The :00/:30 slot of a scheduled run; null otherwise. */
  slot: string | null;
  /** Idempotency key: a retried activity with the same key returns the run already made. */
  runKey: string;
  /** When the run happens (the shop workflow's clock). */
  at: string;
  settings: DistributionSettings;
  settingsVersion: number;
  /** agent_available: only this agent, within its free capacity. */
  agentId?: string;
  dryRun?: boolean;
}

/** The API's DistributionRun shape (contracts/shapes.ts). */
export type { DistributionRun };

interface AgentRow {
  id: string;
  status: string;
  active_sessions: number;
  capacity: number;
  last_assigned_at: Date | null;
}

class DryRunRollback extends Error {
  constructor(readonly run: DistributionRun) {
    super('dry run');
  }
}

async function targetAgents(tx: Knex.Transaction, shopId: string, settings: DistributionSettings): Promise<AgentRow[]> {
  const q = tx('agents as a')
    .where('a.shop_id', shopId)
    .select('a.id', 'a.status', 'a.active_sessions', 'a.capacity', 'a.last_assigned_at');
  const t = settings.target;
  if (t.kind === 'agents') q.whereIn('a.id', t.agentIds);
  if (t.kind === 'groups')
    q.whereExists((s) =>
      s.select(tx.raw('1')).from('agent_group_members as m').whereRaw('m.agent_id = a.id').whereIn('m.group_id', t.groupIds),
    );
  return q.orderBy([{ column: 'a.active_sessions' }, { column: 'a.last_assigned_at', nulls: 'first' }, { column: 'a.id' }]);
}

/** The shop's groups and their members, for the planner's topic rule (routing-rules targets only). */
async function topicCandidates(
  tx: Knex.Transaction,
  shopId: string,
  settings: DistributionSettings,
  assignees: string[],
  topics: string[],
): Promise<Map<string, string[]>> {
  if (settings.target.kind !== 'routing_rules') return candidatesByTopic(settings, assignees, topics, [], []);
  const groups: { id: string; scopes: string[] }[] = await tx('agent_groups').where({ shop_id: shopId }).select('id', 'scopes');
  const members: { group_id: string; agent_id: string }[] = await tx('agent_group_members')
    .whereIn(
      'group_id',
      groups.map((g) => g.id),
    )
    .select('group_id', 'agent_id');
  return candidatesByTopic(settings, assignees, topics, groups, members);
}

function eligibleMessages(tx: Knex.Transaction, shopId: string, settings: DistributionSettings, since: string) {
  const q = tx('offline_messages as o').where({ 'o.shop_id': shopId, 'o.status': 'pending' }).where('o.created_at', '>=', since);
  if (settings.scope === 'human_requested') q.where('o.wants_human', true);
  return q;
}

function emptyRun(req: DistributionRequest): DistributionRun {
  return {
    id: null,
    shopId: req.shopId,
    trigger: req.dryRun ? 'dry_run' : req.trigger,
    slot: req.slot,
    at: req.at,
    settingsVersion: req.settingsVersion,
    settings: req.settings,
    outcome: 'succeeded',
    failureReason: null,
    onlineAgents: 0,
    avgPending: null,
    runLimit: 0,
    eligibleCount: 0,
    assignedCount: 0,
    skippedCount: 0,
    perAgent: {},
  };
}

/** Records the run as running; answers the run already made under this key (a retried activity), or null. */
async function openRun(tx: Knex.Transaction, req: DistributionRequest, run: DistributionRun): Promise<DistributionRun | null> {
  const [row] = await tx('distribution_runs')
    .insert({
      shop_id: req.shopId,
      trigger: req.trigger,
      slot: req.slot,
      run_key: req.runKey,
      settings_version: req.settingsVersion,
      settings: JSON.stringify(req.settings),
      outcome: 'running',
      started_at: req.at,
    })
    .onConflict(tx.raw('(shop_id, run_key) WHERE run_key IS NOT NULL'))
    .ignore()
    .returning('id');
  if (row) {
    run.id = row.id;
    return null;
  }
  const existing = await tx('distribution_runs').where({ shop_id: req.shopId, run_key: req.runKey }).first('id');
  return (await getDistributionRun(tx, req.shopId, existing.id))!;
}

/** Writes the outcome and counts (a dry run keeps them in memory only) and its event. */
async function finishRun(
  tx: Knex.Transaction,
  req: DistributionRequest,
  run: DistributionRun,
  failure: DistributionFailure | null,
): Promise<DistributionRun> {
  Object.assign(run, runOutcome(failure));
  if (run.id === null) return run;
  await tx('distribution_runs')
    .where({ id: run.id })
    .update({
      outcome: run.outcome,
      failure_reason: run.failureReason,
      eligible_count: run.eligibleCount,
      assigned_count: run.assignedCount,
      skipped_count: run.skippedCount,
      run_limit: run.runLimit,
      online_agents: run.onlineAgents,
      avg_pending: run.avgPending,
      per_agent: JSON.stringify(run.perAgent),
      finished_at: req.at,
    });
  await appendEvent(tx, req.shopId, {
    type: 'distribution.run.finished',
    occurredAt: req.at,
    data: {
      runId: run.id,
      trigger: run.trigger,
      outcome: run.outcome,
      failureReason: run.failureReason,
      eligibleCount: run.eligibleCount,
      assignedCount: run.assignedCount,
      skippedCount: run.skippedCount,
      perAgent: run.perAgent,
    },
  });
  return run;
}

/** docs/rules.md §3.13: marks and records the messages whose buyer reached a human since; answers how many. */
async function skipBuyersWhoReachedHuman(
  tx: Knex.Transaction,
  req: DistributionRequest,
  runId: number | null,
  since: string,
): Promise<number> {
  const skipped: { id: number; session_id: string }[] = await eligibleMessages(tx, req.shopId, req.settings, since)
    .whereExists((s) =>
      s
        .select(tx.raw('1'))
        .from('sessions as s')
        .whereRaw('s.shop_id = o.shop_id AND s.buyer_id = o.buyer_id AND s.agent_id IS NOT NULL AND s.assigned_at >= o.created_at'),
    )
    .update({ status: 'skipped', skip_reason: SKIP_BUYER_REACHED_HUMAN, resolved_at: req.at })
    .returning(['o.id', 'o.session_id']);
  if (skipped.length) {
    await tx('assignment_records').insert(
      skipped.map((m) => ({
        shop_id: req.shopId,
        offline_message_id: m.id,
        session_id: m.session_id,
        operator: SYSTEM_OPERATOR,
        kind: 'auto',
        outcome: 'skipped',
        reason: SKIP_BUYER_REACHED_HUMAN,
        run_id: runId,
        created_at: req.at,
      })),
    );
  }
  return skipped.length;
}

/** The newest eligible messages of the servable topics, up to the limit, locked (a concurrent manual assignment skips them). */
async function pickNewest(
  tx: Knex.Transaction,
  req: DistributionRequest,
  since: string,
  topics: string[],
  limit: number,
): Promise<{ id: number; topic: string }[]> {
  const rows: { id: string | number; topic: string }[] = await eligibleMessages(tx, req.shopId, req.settings, since)
    .whereIn('o.topic', topics)
    .select('o.id', 'o.topic')
    .orderBy([
      { column: 'o.created_at', order: 'desc' },
      { column: 'o.id', order: 'desc' },
    ])
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return rows.map((r) => ({ id: Number(r.id), topic: r.topic }));
}

/** Carries out the planned assignments with their effects; answers the count per agent. */
async function assignAutomatically(
  tx: Knex.Transaction,
  req: DistributionRequest,
  runId: number | null,
  plan: { id: number; agentId: string }[],
): Promise<{ agent_id: string; n: number }[]> {
  return (
    await tx.raw(
      `WITH plan AS (SELECT * FROM jsonb_to_recordset(CAST(:plan AS jsonb)) AS p(id bigint, "agentId" text)),
            assigned AS (
              UPDATE offline_messages o SET status = 'assigned', agent_id = p."agentId", resolved_at = CAST(:at AS timestamptz)
              FROM plan p
              WHERE o.id = p.id
              RETURNING o.id, o.session_id, o.agent_id),
            ${ASSIGNMENT_EFFECTS}`,
      effectBindings(req.shopId, SYSTEM_OPERATOR, 'auto', runId, req.at, { plan: JSON.stringify(plan) }),
    )
  ).rows;
}

/**
 * One run: the planner decides who receives and how many (domain/distribution.ts), these statements
 * find the messages, skip, lock and assign them. A dry run throws its result to roll everything back.
 */
export async function distributeOfflineMessages(db: Knex, req: DistributionRequest): Promise<DistributionRun> {
  try {
    return await db.transaction(async (tx) => {
      await lockShopRouting(tx, req.shopId);
      const run = emptyRun(req);
      if (!req.dryRun) {
        const already = await openRun(tx, req, run);
        if (already) return already;
      }
      const target = await targetAgents(tx, req.shopId, req.settings);
      const plan = planRun({
        trigger: req.trigger,
        agentId: req.agentId,
        settings: req.settings,
        target: target.map((a) => ({ id: a.id, status: a.status, activeSessions: a.active_sessions, capacity: a.capacity })),
      });
      Object.assign(run, { onlineAgents: plan.onlineAgents, avgPending: plan.avgPending, runLimit: plan.runLimit });
      if (plan.failure) return finishRun(tx, req, run, plan.failure);

      const since = eligibleSince(req.at);
      run.skippedCount = await skipBuyersWhoReachedHuman(tx, req, run.id, since);
      const topics: string[] = await eligibleMessages(tx, req.shopId, req.settings, since).distinct('o.topic').pluck('o.topic');
      const assignees = plan.assignees.map((a) => a.id);
      const candidates = await topicCandidates(tx, req.shopId, req.settings, assignees, topics);
      const servable = [...candidates.keys()];
      const [{ count }] = await eligibleMessages(tx, req.shopId, req.settings, since).whereIn('o.topic', servable).count({ count: '*' });
      run.eligibleCount = Number(count);
      if (run.eligibleCount === 0) return finishRun(tx, req, run, 'nothing_eligible');

      const picked = await pickNewest(tx, req, since, servable, run.runLimit);
      for (const { agent_id, n } of await assignAutomatically(tx, req, run.id, spreadRoundRobin(picked, candidates))) {
        run.perAgent[agent_id] = n;
        run.assignedCount += n;
      }
      const result = await finishRun(tx, req, run, null);
      if (req.dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.run;
    throw err;
  }
}

/**
 * The common tail of automatic and manual assignment, as data-modifying CTEs after a CTE named
 * `assigned(id, session_id, agent_id)`: the records, the agents' load, the sessions' rows, and one
 * outbox message per session so its run (re)starts with the agent after commit. One round trip;
 * answers the count per agent. Payloads are built in SQL in the shape of OfflineAssignedMessage.
 */
const ASSIGNMENT_EFFECTS = `
  records AS (
    INSERT INTO assignment_records (shop_id, offline_message_id, session_id, agent_id, operator, kind, outcome, reason, run_id, created_at)
    SELECT :shopId, id, session_id, agent_id, :operator, :kind, 'assigned', :reason, CAST(:runId AS bigint), CAST(:at AS timestamptz) FROM assigned
    RETURNING 1),
  load AS (
    UPDATE agents a SET active_sessions = a.active_sessions + v.n, last_assigned_at = CAST(:at AS timestamptz)
    FROM (SELECT agent_id, count(*)::int AS n FROM assigned GROUP BY agent_id) v
    WHERE a.id = v.agent_id
    RETURNING a.id AS agent_id, v.n),
  prior AS (
    SELECT s.session_id, s.awaiting_run, s.pool_run_id, s.human_requested_at, s.first_assigned_at
      FROM sessions s JOIN assigned x ON s.shop_id = :shopId AND s.session_id = x.session_id),
  sess AS (
    UPDATE sessions s SET status = 'active', agent_id = x.agent_id, assigned_at = CAST(:at AS timestamptz), queued_at = NULL, close_reason = NULL, closed_at = NULL,
                          awaiting_run = false, pool_run_id = NULL, first_assigned_at = COALESCE(s.first_assigned_at, CAST(:at AS timestamptz))
    FROM assigned x
    WHERE s.shop_id = :shopId AND s.session_id = x.session_id
    RETURNING s.*),
  bump AS (
    UPDATE shops SET last_event_seq = last_event_seq + (SELECT count(*) FROM sess) WHERE id = :shopId RETURNING last_event_seq),
  evts AS (
    INSERT INTO events (shop_id, seq, type, session_id, data, occurred_at)
    SELECT :shopId, bump.last_event_seq - (SELECT count(*) FROM sess) + row_number() OVER (ORDER BY sess.session_id), 'session.assigned', sess.session_id,
           jsonb_build_object('sessionId', sess.session_id, 'agentId', sess.agent_id, 'operator', CAST(:operator AS text), 'reason', CAST(:reason AS text),
                              'assignmentId', sess.session_id || '/' || sess.agent_id || '/' || CAST(:atIso AS text), 'kind', CAST(:kind AS text)),
           CAST(:at AS timestamptz)
    FROM sess, bump
    RETURNING 1),
  messages AS (
    INSERT INTO outbox (shop_id, kind, run_id, payload)
    SELECT :shopId, 'offline_assigned', CAST(:runId AS bigint), jsonb_build_object(
      'kind', 'offline_assigned',
      'awaitingRun', prior.awaiting_run,
      'waitingRunId', CASE WHEN prior.awaiting_run THEN prior.pool_run_id END,
      'workflowId', CAST(:workflowIdPrefix AS text) || sess.session_id,
      'assignment', jsonb_build_object(
        'assignmentId', sess.session_id || '/' || sess.agent_id || '/' || CAST(:atIso AS text),
        'agentId', sess.agent_id, 'operator', CAST(:operator AS text), 'reason', CAST(:reason AS text)),
      'session', jsonb_build_object(
        'request', jsonb_build_object('shopId', sess.shop_id, 'sessionId', sess.session_id, 'buyerId', sess.buyer_id, 'topic', sess.topic,
                                      'wantsHuman', sess.wants_human, 'botEngaged', sess.bot_engaged, 'policy', sess.policy),
        'snapshot', sess.settings_snapshot,
        'messageCount', sess.message_count))
    FROM sess JOIN prior ON prior.session_id = sess.session_id
    RETURNING 1),
  wake AS (
    SELECT pg_notify(CAST(:outboxChannel AS text), ''), pg_notify(CAST(:eventsChannel AS text), CAST(:shopId AS text))),
  facts AS (
    -- docs/rules.md §10.1: the time in the pool, and the assignment (with the time to a human on the session's first).
    SELECT x.session_id, 'pool_assigned' AS kind, CAST(:kind AS text) AS detail, CAST(:at AS timestamptz) AS at, x.agent_id,
           EXTRACT(EPOCH FROM CAST(:at AS timestamptz) - om.created_at)::float8 AS seconds, 1 AS n
      FROM assigned x JOIN offline_messages om ON om.id = x.id
    UNION ALL
    SELECT x.session_id, 'assigned', CAST(:kind AS text), CAST(:at AS timestamptz), x.agent_id,
           CASE WHEN p.first_assigned_at IS NULL
                THEN EXTRACT(EPOCH FROM CAST(:at AS timestamptz) - COALESCE(p.human_requested_at, om.created_at))::float8 END, 1
      FROM assigned x JOIN offline_messages om ON om.id = x.id JOIN prior p ON p.session_id = x.session_id),
  ${recordFactsCtes('facts')}
SELECT agent_id, n FROM load, (SELECT count(*) FROM wake) w`;

function effectBindings(
  shopId: string,
  operator: string,
  kind: 'auto' | 'manual',
  runId: number | null,
  at: string,
  extra: Record<string, unknown>,
) {
  const atIso = new Date(at).toISOString();
  // The same ids assignmentIdOf() and conversationWorkflowId() produce, so every path agrees.
  const probe = assignmentIdOf('', '', atIso);
  if (probe !== `//${atIso}`) throw new Error('assignment id format changed: update ASSIGNMENT_EFFECTS');
  return {
    shopId,
    operator,
    kind,
    reason: OFFLINE_ASSIGNMENT_REASON,
    runId,
    at: atIso,
    atIso,
    workflowIdPrefix: conversationWorkflowId(shopId, ''),
    outboxChannel: OUTBOX_CHANNEL,
    eventsChannel: EVENTS_CHANNEL,
    ...extra,
  };
}

export interface ManualAssignmentResult {
  assigned: number[];
  notAssigned: { id: number; status: string; reason: string | null; agentId: string | null }[];
}

/**
 * The merchant assigns chosen pool messages to one agent (docs/rules.md §3.1). Serialised with automatic
 * distribution by the shop lock; messages no longer pending are reported, never assigned twice.
 */
export async function assignManually(
  db: Knex,
  req: { shopId: string; messageIds: number[]; agentId: string; operator: string; at: string },
): Promise<ManualAssignmentResult> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const agent = await tx('agents').where({ id: req.agentId, shop_id: req.shopId }).first('id');
    if (!agent) throw new DomainError('unknown_agents', `no agent ${req.agentId} in this shop`);
    const rows: { id: number; status: string; session_id: string; skip_reason: string | null; agent_id: string | null }[] = await tx(
      'offline_messages',
    )
      .where({ shop_id: req.shopId })
      .whereIn('id', req.messageIds)
      .forUpdate()
      .select('id', 'status', 'session_id', 'skip_reason', 'agent_id');
    const found = new Set(rows.map((r) => r.id));
    const missing = req.messageIds.filter((id) => !found.has(id));
    if (missing.length)
      throw new DomainError('unknown_offline_messages', `no such offline messages in this shop: ${missing.join(', ')}`, 404);
    const pending = rows.filter((r) => r.status === 'pending');
    if (pending.length) {
      await tx.raw(
        `WITH assigned AS (
           UPDATE offline_messages SET status = 'assigned', agent_id = :agentId, resolved_at = CAST(:at AS timestamptz)
           WHERE shop_id = :shopId AND status = 'pending' AND id = ANY (CAST(:ids AS bigint[]))
           RETURNING id, session_id, agent_id),
         ${ASSIGNMENT_EFFECTS}`,
        effectBindings(req.shopId, req.operator, 'manual', null, req.at, { agentId: req.agentId, ids: pending.map((r) => r.id) }),
      );
    }
    return {
      assigned: pending.map((r) => r.id).sort((a, b) => a - b),
      notAssigned: rows
        .filter((r) => r.status !== 'pending')
        .map((r) => ({
          id: r.id,
          status: r.status,
          reason: r.status === 'assigned' ? 'already_assigned' : r.skip_reason,
          agentId: r.agent_id,
        }))
        .sort((a, b) => a.id - b.id),
    };
  });
}

interface RunRow {
  id: number;
  shop_id: string;
  trigger: DistributionTrigger;
  slot: Date | null;
  settings_version: number;
  settings: DistributionSettings;
  outcome: 'succeeded' | 'failed';
  failure_reason: DistributionFailure | null;
  eligible_count: number;
  assigned_count: number;
  skipped_count: number;
  run_limit: number | null;
  online_agents: number | null;
  avg_pending: number | null;
  per_agent: Record<string, number>;
  started_at: Date;
}

function toRun(r: RunRow): DistributionRun {
  return {
    id: r.id,
    shopId: r.shop_id,
    trigger: r.trigger,
    slot: r.slot ? r.slot.toISOString() : null,
    at: r.started_at.toISOString(),
    settingsVersion: r.settings_version,
    settings: r.settings,
    outcome: r.outcome,
    failureReason: r.failure_reason,
    onlineAgents: r.online_agents ?? 0,
    avgPending: r.avg_pending,
    runLimit: r.run_limit ?? 0,
    eligibleCount: r.eligible_count,
    assignedCount: r.assigned_count,
    skippedCount: r.skipped_count,
    perAgent: r.per_agent,
  };
}

export async function getDistributionRun(db: Knex, shopId: string, runId: number): Promise<DistributionRun | null> {
  const row = await db<RunRow>('distribution_runs').where({ shop_id: shopId, id: runId }).first();
  return row ? toRun(row as RunRow) : null;
}

export async function listDistributionRuns(
  db: Knex,
  shopId: string,
  opts: { limit: number; beforeId?: number; outcome?: 'succeeded' | 'failed' },
): Promise<DistributionRun[]> {
  const q = db<RunRow>('distribution_runs').where({ shop_id: shopId });
  if (opts.beforeId) q.where('id', '<', opts.beforeId);
  if (opts.outcome) q.where({ outcome: opts.outcome });
  return ((await q.orderBy('id', 'desc').limit(opts.limit)) as RunRow[]).map(toRun);
}

/** Messages assigned automatically per shop-local day (docs/rules.md §3.4), for the `days` days up to `asOf` (the caller's clock). */
export async function dailyAutoAssignedCounts(
  db: Knex,
  shopId: string,
  timeZone: string,
  days: number,
  asOf: Date,
): Promise<{ day: string; autoAssigned: number }[]> {
  const rows: { day: string; n: number }[] = (
    await db.raw(
      `SELECT to_char((created_at AT TIME ZONE ?)::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
       FROM assignment_records
       WHERE shop_id = ? AND kind = 'auto' AND outcome = 'assigned' AND created_at >= ?::timestamptz - (? * interval '1 day')
         AND created_at <= ?::timestamptz
       GROUP BY 1 ORDER BY 1 DESC`,
      [timeZone, shopId, asOf.toISOString(), days + 1, asOf.toISOString()],
    )
  ).rows;
  return rows.map((r) => ({ day: r.day, autoAssigned: r.n }));
}

export interface AssignmentRecord {
  id: number;
  offlineMessageId: number | null;
  sessionId: string;
  agentId: string | null;
  operator: string;
  kind: string;
  outcome: string;
  reason: string | null;
  runId: number | null;
  createdAt: string;
}

/** The shop's assignment records (分配记录), newest first: automatic and manual, assigned and skipped. */
export async function listAssignmentRecords(
  db: Knex,
  shopId: string,
  opts: { limit: number; beforeId?: number; kind?: AssignmentRecordKind; outcome?: 'assigned' | 'skipped' },
): Promise<AssignmentRecord[]> {
  const q = db('assignment_records').where({ shop_id: shopId }).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) q.where('id', '<', opts.beforeId);
  if (opts.kind) q.where({ kind: opts.kind });
  if (opts.outcome) q.where({ outcome: opts.outcome });
  const rows = await q.select(
    'id',
    'offline_message_id',
    'session_id',
    'agent_id',
    'operator',
    'kind',
    'outcome',
    'reason',
    'run_id',
    'created_at',
  );
  return rows.map((r) => ({
    id: Number(r.id),
    offlineMessageId: r.offline_message_id === null ? null : Number(r.offline_message_id),
    sessionId: r.session_id,
    agentId: r.agent_id,
    operator: r.operator,
    kind: r.kind,
    outcome: r.outcome,
    reason: r.reason,
    runId: r.run_id === null ? null : Number(r.run_id),
    createdAt: (r.created_at as Date).toISOString(),
  }));
}
