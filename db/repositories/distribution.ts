/**
 * Offline-message distribution (SPEC 3): one transaction of set-based statements under the shop's
 * routing lock. Scheduled runs are keyed by (shop, slot), so a retried activity returns the run it
 * already made; each pool message is assigned at most once (row locks + a unique index on records).
 * A dry run executes the very same statements and rolls them back.
 */
import type { Knex } from 'knex';
import { OFFLINE_ASSIGNMENT_REASON, SYSTEM_OPERATOR } from '../../domain/assignment';
import { runLimit, type DistributionFailure, type DistributionSettings } from '../../domain/distribution';
import { DomainError } from '../../domain/errors';
import { DISTRIBUTION_RUN_HARD_CAP, OFFLINE_MESSAGE_ELIGIBILITY_MS } from '../../domain/limits';
import { conversationWorkflowId } from '../../domain/temporal-names';
import type { OfflineAssignedMessage } from './outbox';
import { assignmentIdOf, lockShopRouting } from './routing';

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

export interface DistributionRun {
  id: number | null;
  shopId: string;
  trigger: DistributionTrigger | 'dry_run';
  slot: string | null;
  at: string;
  settingsVersion: number;
  settings: DistributionSettings;
  outcome: 'succeeded' | 'failed';
  failureReason: DistributionFailure | null;
  onlineAgents: number;
  avgPending: number | null;
  runLimit: number;
  eligibleCount: number;
  assignedCount: number;
  skippedCount: number;
  perAgent: Record<string, number>;
}

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
  const q = tx('agents as a').where('a.shop_id', shopId).select('a.id', 'a.status', 'a.active_sessions', 'a.capacity', 'a.last_assigned_at');
  const t = settings.target;
  if (t.kind === 'agents') q.whereIn('a.id', t.agentIds);
  if (t.kind === 'groups') q.whereExists((s) => s.select(tx.raw('1')).from('agent_group_members as m').whereRaw('m.agent_id = a.id').whereIn('m.group_id', t.groupIds));
  return q.orderBy([{ column: 'a.active_sessions' }, { column: 'a.last_assigned_at', nulls: 'first' }, { column: 'a.id' }]);
}

/** Which online agents may take messages of each topic: group scope for routing rules, anyone for groups/agents targets. */
async function candidatesByTopic(
  tx: Knex.Transaction,
  shopId: string,
  settings: DistributionSettings,
  online: AgentRow[],
  topics: string[],
): Promise<Map<string, string[]>> {
  const byTopic = new Map<string, string[]>();
  if (settings.target.kind !== 'routing_rules') {
    for (const topic of topics) byTopic.set(topic, online.map((a) => a.id));
    return byTopic;
  }
  const groups: { id: string; scopes: string[] }[] = await tx('agent_groups').where({ shop_id: shopId }).select('id', 'scopes');
  const members: { group_id: string; agent_id: string }[] = await tx('agent_group_members')
    .whereIn('group_id', groups.map((g) => g.id))
    .select('group_id', 'agent_id');
  for (const topic of topics) {
    const covering = new Set(groups.filter((g) => g.scopes.includes(topic)).map((g) => g.id));
    // Same rule as live routing: a topic no group lists may go to any agent of the shop.
    const allowed = covering.size === 0 ? null : new Set(members.filter((m) => covering.has(m.group_id)).map((m) => m.agent_id));
    const agents = online.filter((a) => allowed === null || allowed.has(a.id)).map((a) => a.id);
    if (agents.length > 0) byTopic.set(topic, agents);
  }
  return byTopic;
}

function eligibleMessages(tx: Knex.Transaction, shopId: string, settings: DistributionSettings, since: string) {
  const q = tx('offline_messages as o').where({ 'o.shop_id': shopId, 'o.status': 'pending' }).where('o.created_at', '>=', since);
  if (settings.scope === 'human_requested') q.where('o.wants_human', true);
  return q;
}

export async function distributeOfflineMessages(db: Knex, req: DistributionRequest): Promise<DistributionRun> {
  try {
    return await db.transaction(async (tx) => {
      await lockShopRouting(tx, req.shopId);
      const run: DistributionRun = {
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
      if (!req.dryRun) {
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
        if (!row) {
          // This run was made already (a retried activity after a crash): report it, change nothing.
          const existing = await tx('distribution_runs').where({ shop_id: req.shopId, run_key: req.runKey }).first('id');
          return (await getDistributionRun(tx, req.shopId, existing.id))!;
        }
        run.id = row.id;
      }
      const finish = async (failure: DistributionFailure | null): Promise<DistributionRun> => {
        run.outcome = failure && failure !== 'nothing_eligible' ? 'failed' : 'succeeded';
        run.failureReason = failure;
        if (run.id !== null) {
          await tx('distribution_runs').where({ id: run.id }).update({
            outcome: run.outcome,
            failure_reason: failure,
            eligible_count: run.eligibleCount,
            assigned_count: run.assignedCount,
            skipped_count: run.skippedCount,
            run_limit: run.runLimit,
            per_agent: JSON.stringify(run.perAgent),
            finished_at: req.at,
          });
        }
        return run;
      };

      // 1. The target and its online, not-suspended agents.
      const target = await targetAgents(tx, req.shopId, req.settings);
      let online = target.filter((a) => a.status === 'online');
      run.onlineAgents = online.length;
      if (req.trigger === 'agent_available') {
        online = online.filter((a) => a.id === req.agentId);
        const free = online[0] ? Math.max(0, online[0].capacity - online[0].active_sessions) : 0;
        run.runLimit = Math.min(free, DISTRIBUTION_RUN_HARD_CAP);
        if (run.runLimit === 0) return finish('nothing_eligible');
      } else {
        // 2. Conditions (SPEC 3.2): a failed one assigns nothing and says why.
        run.avgPending = online.length ? online.reduce((n, a) => n + a.active_sessions, 0) / online.length : null;
        if (online.length === 0 || online.length < req.settings.minOnlineAgents) return finish('insufficient_online_agents');
        if (req.settings.maxAvgPending !== null && run.avgPending! > req.settings.maxAvgPending) return finish('avg_pending_exceeded');
        run.runLimit = runLimit(online.length, req.settings.perAgentCap);
      }

      const since = new Date(Date.parse(req.at) - OFFLINE_MESSAGE_ELIGIBILITY_MS).toISOString();
      // 3. Buyers who already reached a human since leaving the message: skipped, with the reason.
      const skipped: { id: number; session_id: string }[] = await eligibleMessages(tx, req.shopId, req.settings, since)
        .whereExists((s) =>
          s
            .select(tx.raw('1'))
            .from('sessions as s')
            .whereRaw('s.shop_id = o.shop_id AND s.buyer_id = o.buyer_id AND s.agent_id IS NOT NULL AND s.assigned_at >= o.created_at'),
        )
        .update({ status: 'skipped', skip_reason: 'buyer_reached_human', resolved_at: req.at })
        .returning(['o.id', 'o.session_id']);
      run.skippedCount = skipped.length;
      if (skipped.length) {
        await tx('assignment_records').insert(
          skipped.map((m) => ({
            shop_id: req.shopId,
            offline_message_id: m.id,
            session_id: m.session_id,
            operator: SYSTEM_OPERATOR,
            kind: 'auto',
            outcome: 'skipped',
            reason: 'buyer_reached_human',
            run_id: run.id,
            created_at: req.at,
          })),
        );
      }

      // 4. What is eligible: in scope, last 24 h, and a topic some online target agent may take.
      const topics: string[] = await eligibleMessages(tx, req.shopId, req.settings, since).distinct('o.topic').pluck('o.topic');
      const candidates = await candidatesByTopic(tx, req.shopId, req.settings, online, topics);
      const servable = [...candidates.keys()];
      const [{ count }] = await eligibleMessages(tx, req.shopId, req.settings, since).whereIn('o.topic', servable).count({ count: '*' });
      run.eligibleCount = Number(count);
      if (run.eligibleCount === 0) return finish('nothing_eligible');

      // 5. The newest up to the limit, locked, spread round-robin over each topic's agents (least loaded first).
      const cand = [...candidates].flatMap(([topic, agents]) => agents.map((agentId, idx) => ({ topic, agent_id: agentId, idx, n: agents.length })));
      const pickedSql = eligibleMessages(tx, req.shopId, req.settings, since)
        .whereIn('o.topic', servable)
        .select('o.id', 'o.topic', 'o.created_at')
        .orderBy([{ column: 'o.created_at', order: 'desc' }, { column: 'o.id', order: 'desc' }])
        .limit(run.runLimit)
        .forUpdate()
        .skipLocked();
      const assigned: { id: number; session_id: string; agent_id: string }[] = (
        await tx.raw(
          `WITH picked AS (${pickedSql.toString()}),
                numbered AS (SELECT id, topic, row_number() OVER (PARTITION BY topic ORDER BY created_at DESC, id DESC) - 1 AS rn FROM picked),
                cand AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS c(topic text, agent_id text, idx int, n int)),
                assigned AS (
                  UPDATE offline_messages o SET status = 'assigned', agent_id = c.agent_id, resolved_at = ?
                  FROM numbered m JOIN cand c ON c.topic = m.topic AND c.idx = m.rn % c.n
                  WHERE o.id = m.id
                  RETURNING o.id, o.session_id, o.agent_id)
           INSERT INTO assignment_records (shop_id, offline_message_id, session_id, agent_id, operator, kind, outcome, reason, run_id, created_at)
           SELECT ?, id, session_id, agent_id, ?, 'auto', 'assigned', ?, ?, ? FROM assigned
           RETURNING offline_message_id AS id, session_id, agent_id`,
          [JSON.stringify(cand), req.at, req.shopId, SYSTEM_OPERATOR, OFFLINE_ASSIGNMENT_REASON, run.id, req.at],
        )
      ).rows;
      await applyAssignments(tx, req.shopId, assigned, SYSTEM_OPERATOR, req.at);
      run.assignedCount = assigned.length;
      for (const a of assigned) run.perAgent[a.agent_id] = (run.perAgent[a.agent_id] ?? 0) + 1;
      const result = await finish(null);
      if (req.dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.run;
    throw err;
  }
}

/**
 * The common tail of automatic and manual assignment: agents' load, the sessions' rows, and one
 * outbox message per session so its run (re)starts with the agent after commit.
 */
async function applyAssignments(
  tx: Knex.Transaction,
  shopId: string,
  assigned: { session_id: string; agent_id: string }[],
  operator: string,
  at: string,
): Promise<void> {
  if (assigned.length === 0) return;
  const perAgent = new Map<string, number>();
  for (const a of assigned) perAgent.set(a.agent_id, (perAgent.get(a.agent_id) ?? 0) + 1);
  await tx.raw(
    `UPDATE agents a SET active_sessions = a.active_sessions + v.n, last_assigned_at = ?
     FROM jsonb_to_recordset(?::jsonb) AS v(id text, n int) WHERE a.id = v.id`,
    [at, JSON.stringify([...perAgent].map(([id, n]) => ({ id, n })))],
  );
  const sessions = (
    await tx.raw(
      `UPDATE sessions s SET status = 'active', agent_id = v.agent_id, assigned_at = ?, queued_at = NULL, close_reason = NULL, closed_at = NULL
       FROM jsonb_to_recordset(?::jsonb) AS v(session_id text, agent_id text)
       WHERE s.shop_id = ? AND s.session_id = v.session_id
       RETURNING s.session_id, s.buyer_id, s.topic, s.wants_human, s.bot_engaged, s.policy, s.settings_snapshot, s.agent_id`,
      [at, JSON.stringify(assigned.map((a) => ({ session_id: a.session_id, agent_id: a.agent_id }))), shopId],
    )
  ).rows as {
    session_id: string;
    buyer_id: string;
    topic: string;
    wants_human: boolean;
    bot_engaged: boolean;
    policy: 'current' | 'legacy';
    settings_snapshot: OfflineAssignedMessage['session']['snapshot'];
    agent_id: string;
  }[];
  const messages: OfflineAssignedMessage[] = sessions.map((s) => ({
    kind: 'offline_assigned',
    workflowId: conversationWorkflowId(shopId, s.session_id),
    assignment: { assignmentId: assignmentIdOf(s.session_id, s.agent_id, at), agentId: s.agent_id, operator, reason: OFFLINE_ASSIGNMENT_REASON },
    session: {
      request: { shopId, sessionId: s.session_id, buyerId: s.buyer_id, topic: s.topic, wantsHuman: s.wants_human, botEngaged: s.bot_engaged, policy: s.policy },
      snapshot: s.settings_snapshot,
    },
  }));
  // One multi-row insert, in slices to stay under Postgres' bind-parameter limit.
  for (let i = 0; i < messages.length; i += 2000) {
    await tx('outbox').insert(messages.slice(i, i + 2000).map((m) => ({ shop_id: shopId, kind: m.kind, payload: JSON.stringify(m) })));
  }
}

export interface ManualAssignmentResult {
  assigned: number[];
  notAssigned: { id: number; status: string }[];
}

/**
 * The merchant assigns chosen pool messages to one agent (SPEC 3.1). Serialised with automatic
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
    const rows: { id: number; status: string; session_id: string }[] = await tx('offline_messages')
      .where({ shop_id: req.shopId })
      .whereIn('id', req.messageIds)
      .forUpdate()
      .select('id', 'status', 'session_id');
    const found = new Set(rows.map((r) => r.id));
    const missing = req.messageIds.filter((id) => !found.has(id));
    if (missing.length) throw new DomainError('unknown_offline_messages', `no such offline messages in this shop: ${missing.join(', ')}`, 404);
    const pending = rows.filter((r) => r.status === 'pending');
    if (pending.length) {
      await tx('offline_messages')
        .whereIn('id', pending.map((r) => r.id))
        .update({ status: 'assigned', agent_id: req.agentId, resolved_at: req.at });
      await tx('assignment_records').insert(
        pending.map((r) => ({
          shop_id: req.shopId,
          offline_message_id: r.id,
          session_id: r.session_id,
          agent_id: req.agentId,
          operator: req.operator,
          kind: 'manual',
          outcome: 'assigned',
          reason: OFFLINE_ASSIGNMENT_REASON,
          created_at: req.at,
        })),
      );
      await applyAssignments(tx, req.shopId, pending.map((r) => ({ session_id: r.session_id, agent_id: req.agentId })), req.operator, req.at);
    }
    return {
      assigned: pending.map((r) => r.id).sort((a, b) => a - b),
      notAssigned: rows.filter((r) => r.status !== 'pending').map((r) => ({ id: r.id, status: r.status })),
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
    onlineAgents: 0,
    avgPending: null,
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

/** Messages assigned automatically per shop-local day (SPEC 3.4). */
export async function dailyAutoAssignedCounts(db: Knex, shopId: string, timeZone: string, days: number): Promise<{ day: string; autoAssigned: number }[]> {
  const rows: { day: string; n: number }[] = (
    await db.raw(
      `SELECT to_char((created_at AT TIME ZONE ?)::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
       FROM assignment_records
       WHERE shop_id = ? AND kind = 'auto' AND outcome = 'assigned' AND created_at >= now() - (? * interval '1 day')
       GROUP BY 1 ORDER BY 1 DESC`,
      [timeZone, shopId, days + 1],
    )
  ).rows;
  return rows.map((r) => ({ day: r.day, autoAssigned: r.n }));
}
