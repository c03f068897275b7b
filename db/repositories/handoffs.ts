/**
 * Handoffs (docs/rules.md §9): a session moves from the agent who holds it to another one. Every move
 * is one routing transaction under the shop's lock, like an assignment: the old seat is freed (and
 * handed to the queue), the new one taken, the move recorded with its operator, its event appended
 * and the session's run told through the outbox.
 */
import type { Knex } from 'knex';
import type { SessionRecord, TransferRecord } from '../../contracts/shapes';
import { assignmentIdOf, REROUTE_REASON, SYSTEM_OPERATOR as SYSTEM_OPERATOR_NAME, TRANSFER_REASON } from '../../domain/assignment';
import type { SessionReroute } from '../../domain/conversation-machine';
import type { RerouteReason } from '../../domain/session';
import { DomainError } from '../../domain/errors';
import { conversationWorkflowId } from '../../domain/temporal-names';
import type { EventDataByType } from '../../domain/events';
import { appendEvent } from './events';
import { enqueueOutbox } from './outbox';
import { getSession } from './sessions';
import { moveFact, recordFacts } from './service-facts';
import {
  drainQueueForAgent,
  freeSeat,
  insertOfflineMessage,
  lockShopRouting,
  queueSession,
  servesTopicSql,
  takeFreeSeat,
  type Assignment,
} from './routing';

/** Why a named target cannot take the session (the 409's `details.reason`). */
export type TransferRefusal = 'same_agent' | 'offline' | 'suspended' | 'full' | 'no_free_agent';

export type TransferTarget = { toAgentId: string; toGroupId?: undefined } | { toGroupId: string; toAgentId?: undefined };

export interface TransferRequest {
  shopId: string;
  sessionId: string;
  target: TransferTarget;
  note: string | null;
  /** The credential that asked (actorOf). */
  operator: string;
  /** An agent's key may transfer only a session it holds: checked under the lock, not before it. */
  holderMustBe?: string;
  at: string;
}

/** The API's Transfer shape (contracts/shapes.ts). */
export type Transfer = TransferRecord;

/**
 * The session leaves `from` for `to`, whose seat the caller has taken: the old seat is freed, the row
 * moves, and the move is recorded with the agent it came from. Returns the new assignment's id.
 */
async function handOver(
  tx: Knex.Transaction,
  m: { shopId: string; sessionId: string; from: string; to: string; at: string },
  record: { operator: string; kind: 'transfer' | 'reroute'; reason: string; note: string | null; groupId: string | null },
): Promise<string> {
  await freeSeat(tx, m.from);
  await tx('sessions')
    .where({ shop_id: m.shopId, session_id: m.sessionId })
    .update({ agent_id: m.to, assigned_at: m.at, status: 'active' });
  await tx('assignment_records').insert({
    shop_id: m.shopId,
    session_id: m.sessionId,
    agent_id: m.to,
    from_agent_id: m.from,
    operator: record.operator,
    kind: record.kind,
    outcome: 'assigned',
    reason: record.reason,
    note: record.note,
    group_id: record.groupId,
    created_at: m.at,
  });
  await recordFacts(tx, m.shopId, [{ sessionId: m.sessionId, kind: 'assigned', detail: record.kind, at: m.at, agentId: m.to }]);
  return assignmentIdOf(m.sessionId, m.to, m.at);
}

const unavailable = (reason: TransferRefusal, message: string) => new DomainError('transfer_target_unavailable', message, 409, { reason });

/** The least-loaded online member of the group with a free seat, other than the holder (ties: idle longest). */
async function pickFromGroup(tx: Knex.Transaction, shopId: string, groupId: string, holder: string): Promise<string | null> {
  const row = await tx('agents as a')
    .join('agent_group_members as m', 'm.agent_id', 'a.id')
    .where({ 'm.group_id': groupId, 'a.shop_id': shopId, 'a.status': 'online' })
    .whereNot('a.id', holder)
    .whereRaw('a.active_sessions < a.capacity')
    .orderBy([{ column: 'a.active_sessions' }, { column: 'a.last_assigned_at', order: 'asc', nulls: 'first' }, { column: 'a.id' }])
    .first('a.id');
  return row?.id ?? null;
}

async function checkAgentTarget(tx: Knex.Transaction, shopId: string, agentId: string, holder: string): Promise<void> {
  const agent = await tx('agents').where({ id: agentId, shop_id: shopId }).first('status', 'capacity', 'active_sessions');
  if (!agent) throw new DomainError('not_found', `agent ${agentId} not found`, 404);
  if (agentId === holder) throw unavailable('same_agent', `agent ${agentId} already holds this session`);
  if (agent.status === 'offline') throw unavailable('offline', `agent ${agentId} is offline`);
  if (agent.status === 'suspended') throw unavailable('suspended', `agent ${agentId} is on a break (小休)`);
  if (agent.active_sessions >= agent.capacity)
    throw unavailable('full', `agent ${agentId} has no free seat (${agent.active_sessions}/${agent.capacity})`);
}

/**
 * Transfers an active session (转接). The 6 h agent-reply timer is the run's and keeps counting: a
 * transfer is not a reply. Refusals are DomainErrors and change nothing.
 */
export async function transferSession(
  db: Knex,
  req: TransferRequest,
): Promise<{ transfer: Transfer; drained: Assignment[]; session: SessionRecord }> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const row = await tx('sessions')
      .where({ shop_id: req.shopId, session_id: req.sessionId })
      .forUpdate()
      .first('status', 'agent_id', 'assigned_at');
    if (!row || (req.holderMustBe !== undefined && row.agent_id !== req.holderMustBe)) {
      // Another agent's session is as good as absent to an agent's key.
      throw new DomainError('not_found', `session ${req.sessionId} not found`, 404);
    }
    if (row.status !== 'active' || !row.agent_id) {
      throw new DomainError(
        'session_not_active',
        `session ${req.sessionId} is ${row.status}; only a session with an agent can be transferred`,
        409,
      );
    }
    const from: string = row.agent_id;
    let to: string;
    if (req.target.toAgentId !== undefined) {
      await checkAgentTarget(tx, req.shopId, req.target.toAgentId, from);
      to = req.target.toAgentId;
    } else {
      const group = await tx('agent_groups').where({ id: req.target.toGroupId, shop_id: req.shopId }).first('id');
      if (!group) throw new DomainError('not_found', `group ${req.target.toGroupId} not found`, 404);
      const picked = await pickFromGroup(tx, req.shopId, req.target.toGroupId, from);
      if (!picked)
        throw unavailable('no_free_agent', `no online agent of group ${req.target.toGroupId} other than the holder has a free seat`);
      to = picked;
    }
    if (!(await takeFreeSeat(tx, req.shopId, to, req.at))) throw unavailable('full', `agent ${to} has no free seat`);
    const groupId = req.target.toGroupId ?? null;
    const assignmentId = await handOver(
      tx,
      { shopId: req.shopId, sessionId: req.sessionId, from, to, at: req.at },
      { operator: req.operator, kind: 'transfer', reason: TRANSFER_REASON, note: req.note, groupId },
    );
    const transfer: Transfer = {
      assignmentId,
      fromAgentId: from,
      toAgentId: to,
      groupId,
      note: req.note,
      operator: req.operator,
      at: req.at,
    };
    await recordFacts(tx, req.shopId, [
      moveFact({
        sessionId: req.sessionId,
        kind: 'transferred',
        detail: to,
        at: req.at,
        fromAgentId: from,
        fromAssignedAt: row.assigned_at,
      }),
    ]);
    await appendEvent(tx, req.shopId, {
      type: 'session.transferred',
      sessionId: req.sessionId,
      occurredAt: req.at,
      data: { sessionId: req.sessionId, ...transfer },
    });
    await enqueueOutbox(tx, req.shopId, {
      kind: 'agent_transferred',
      workflowId: conversationWorkflowId(req.shopId, req.sessionId),
      transfer: { assignmentId, agentId: to, operator: req.operator, reason: TRANSFER_REASON, fromAgentId: from },
    });
    // The seat the session left serves the queue, as a close's does.
    const drained = await drainQueueForAgent(tx, req.shopId, from, req.at);
    // The answer is read in the same transaction: a failed read cannot turn a done transfer into a 500 a retry repeats.
    return { transfer, drained, session: (await getSession(tx, req.shopId, req.sessionId))! };
  });
}

/** A session's transfers, oldest first. */
export async function listTransfers(db: Knex, shopId: string, sessionId: string): Promise<Transfer[]> {
  const rows = await db('assignment_records')
    .where({ shop_id: shopId, session_id: sessionId, kind: 'transfer' })
    .orderBy('id')
    .select('session_id', 'agent_id', 'from_agent_id', 'group_id', 'operator', 'note', 'created_at');
  return rows.map((r) => ({
    assignmentId: assignmentIdOf(r.session_id, r.agent_id, r.created_at),
    fromAgentId: r.from_agent_id,
    toAgentId: r.agent_id,
    groupId: r.group_id,
    note: r.note,
    operator: r.operator,
    at: (r.created_at as Date).toISOString(),
  }));
}

/** Where a re-routed session went (docs/rules.md §9.2, §9.3): another agent, else the queue, else the offline pool. */
export type RerouteOutcome =
  | { kind: 'assigned'; assignment: Assignment }
  | { kind: 'queued'; queuedAt: string; position: number }
  | { kind: 'offline'; offlineMessageId: number };

export interface Reroute {
  sessionId: string;
  fromAgentId: string;
  fromAssignmentId: string;
  reason: RerouteReason;
  outcome: RerouteOutcome;
}

interface ActiveRow {
  shop_id: string;
  session_id: string;
  buyer_id: string;
  topic: string;
  wants_human: boolean;
  bot_engaged: boolean;
  agent_id: string;
  assigned_at: Date;
}

/** Who may take a session away from `from`: online, free seat, serves the topic, not `from` (no recent contact: it may be `from`). */
const PICK_OTHER_SQL = `
SELECT
  (SELECT a.id FROM agents a
    WHERE a.shop_id = :shopId AND a.status = 'online' AND a.id <> :from AND a.active_sessions < a.capacity AND ${servesTopicSql('a.id', ':topic', 'a.shop_id')}
    ORDER BY a.active_sessions ASC, a.last_assigned_at ASC NULLS FIRST, a.id ASC LIMIT 1) AS candidate_id,
  EXISTS (SELECT 1 FROM agents a WHERE a.shop_id = :shopId AND a.status = 'online' AND a.id <> :from AND ${servesTopicSql('a.id', ':topic', 'a.shop_id')}) AS someone_online`;

/**
 * The pool takes the session back. Its one offline message returns to pending (origin: why), and the
 * assignments it had are superseded, so the message can be assigned once more — once.
 */
async function returnToPool(tx: Knex.Transaction, row: ActiveRow, origin: RerouteReason, at: string): Promise<number> {
  const existing = await tx('offline_messages').where({ shop_id: row.shop_id, session_id: row.session_id }).first('id');
  if (!existing) return insertOfflineMessage(tx, row, origin, at);
  await tx('offline_messages')
    .where({ id: existing.id })
    .update({ status: 'pending', origin, agent_id: null, skip_reason: null, resolved_at: null, created_at: at, wants_human: true });
  await tx('assignment_records').where({ offline_message_id: existing.id }).update({ superseded: true });
  await recordFacts(tx, row.shop_id, [{ sessionId: row.session_id, kind: 'pool_created', detail: origin, at }]);
  await appendEvent(tx, row.shop_id, {
    type: 'offline_message.created',
    sessionId: row.session_id,
    occurredAt: at,
    data: {
      sessionId: row.session_id,
      offlineMessageId: existing.id,
      origin,
      topic: row.topic,
      wantsHuman: true,
      botEngaged: row.bot_engaged,
    },
  });
  return existing.id;
}

/**
 * Moves one active session away from its agent, under the shop's routing lock held by the caller.
 * The seat it leaves serves the queue first (for an agent still online), so a session already
 * waiting is not overtaken; this session never goes back to that agent here.
 */
async function rerouteOne(
  tx: Knex.Transaction,
  row: ActiveRow,
  reason: RerouteReason,
  at: string,
  runId: string | null = null,
): Promise<Reroute | null> {
  const from = row.agent_id;
  const fromAssignmentId = assignmentIdOf(row.session_id, from, row.assigned_at);
  const { shop_id: shopId, session_id: sessionId } = row;
  const {
    rows: [pick],
  } = (await tx.raw(PICK_OTHER_SQL, { shopId, from, topic: row.topic })) as {
    rows: { candidate_id: string | null; someone_online: boolean }[];
  };
  // An unanswered buyer with nobody else online stays with its agent: the pool would only hand the
  // session back to whoever has a seat — that same agent — and cut the live conversation.
  if (reason === 'no_first_reply' && !pick.someone_online) return null;
  let outcome: RerouteOutcome;
  if (pick.candidate_id && (await takeFreeSeat(tx, shopId, pick.candidate_id, at))) {
    const to = pick.candidate_id;
    const assignmentId = await handOver(
      tx,
      { shopId, sessionId, from, to, at },
      { operator: SYSTEM_OPERATOR_NAME, kind: 'reroute', reason: REROUTE_REASON, note: reason, groupId: null },
    );
    outcome = { kind: 'assigned', assignment: { assignmentId, agentId: to, operator: SYSTEM_OPERATOR_NAME, reason: REROUTE_REASON } };
    await drainQueueForAgent(tx, shopId, from, at);
  } else {
    await freeSeat(tx, from);
    await tx('sessions').where({ shop_id: shopId, session_id: sessionId }).update({ agent_id: null, assigned_at: null });
    // The older queue first: the seat this session left is not its to keep.
    await drainQueueForAgent(tx, shopId, from, at);
    if (pick.someone_online) {
      outcome = { kind: 'queued', ...(await queueSession(tx, shopId, sessionId, row.topic, at)) };
    } else {
      await tx('sessions')
        .where({ shop_id: shopId, session_id: sessionId })
        .update({ status: 'offline', awaiting_run: true, pool_run_id: runId, queued_at: null });
      outcome = { kind: 'offline', offlineMessageId: await returnToPool(tx, row, reason, at) };
    }
  }
  await recordFacts(tx, shopId, [
    moveFact({ sessionId, kind: 'rerouted', detail: reason, at, fromAgentId: from, fromAssignedAt: row.assigned_at }),
  ]);
  await appendEvent(tx, shopId, {
    type: 'session.rerouted',
    sessionId,
    occurredAt: at,
    data: {
      sessionId,
      fromAgentId: from,
      reason,
      outcome: outcome.kind,
      toAgentId: outcome.kind === 'assigned' ? outcome.assignment.agentId : null,
      position: outcome.kind === 'queued' ? outcome.position : null,
      queuedAt: outcome.kind === 'queued' ? outcome.queuedAt : null,
      fromAssignmentId,
      offlineMessageId: outcome.kind === 'offline' ? outcome.offlineMessageId : null,
    },
  });
  const reroute = { sessionId, fromAgentId: from, fromAssignmentId, reason, outcome };
  // The run that asked (no first reply) learns the outcome from its activity; others hear it by signal.
  if (runId === null)
    await enqueueOutbox(tx, shopId, {
      kind: 'session_rerouted',
      workflowId: conversationWorkflowId(shopId, sessionId),
      reroute: sessionRerouteOf(reroute),
    });
  return reroute;
}

/** What the session's run is told (its machine's event). */
export function sessionRerouteOf(r: Reroute): SessionReroute {
  const o = r.outcome;
  return {
    fromAgentId: r.fromAgentId,
    fromAssignmentId: r.fromAssignmentId,
    reason: r.reason,
    outcome: o.kind === 'assigned' ? o : o.kind === 'queued' ? { kind: 'queued', queuedAt: o.queuedAt } : { kind: 'offline' },
  };
}

const ACTIVE_COLUMNS = ['shop_id', 'session_id', 'buyer_id', 'topic', 'wants_human', 'bot_engaged', 'agent_id', 'assigned_at'] as const;

/** The re-route that already took the session away from `fromAssignmentId` (a retried call), as it was. */
async function earlierReroute(tx: Knex.Transaction, shopId: string, sessionId: string, fromAssignmentId: string): Promise<Reroute | null> {
  const e = await tx('events')
    .where({ shop_id: shopId, session_id: sessionId, type: 'session.rerouted' })
    // Only the run's own re-route (no first reply): one for an agent who left reached it by signal.
    .whereRaw(`data->>'fromAssignmentId' = ? AND data->>'reason' = 'no_first_reply'`, [fromAssignmentId])
    .first('data', 'occurred_at');
  if (!e) return null;
  const d = e.data as EventDataByType['session.rerouted'];
  const at = (e.occurred_at as Date).toISOString();
  const outcome: RerouteOutcome =
    d.outcome === 'assigned'
      ? {
          kind: 'assigned',
          assignment: {
            assignmentId: assignmentIdOf(sessionId, d.toAgentId!, at),
            agentId: d.toAgentId!,
            operator: SYSTEM_OPERATOR_NAME,
            reason: REROUTE_REASON,
          },
        }
      : d.outcome === 'queued'
        ? { kind: 'queued', queuedAt: d.queuedAt!, position: d.position! }
        : { kind: 'offline', offlineMessageId: d.offlineMessageId! };
  return { sessionId, fromAgentId: d.fromAgentId, fromAssignmentId, reason: d.reason, outcome };
}

/**
 * docs/rules.md §9.2: an agent's grace period ran out. If it is still offline since `since` (it did not come
 * back, nor come back and leave again, which counts from then), every session it holds is re-routed.
 * Idempotent: a retry finds no session left with that agent.
 */
export async function rerouteSessionsOfAgentWhoLeft(
  db: Knex,
  req: { shopId: string; agentId: string; since: string; at: string },
): Promise<Reroute[]> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const agent = await tx('agents').where({ id: req.agentId, shop_id: req.shopId }).forUpdate().first('status', 'status_changed_at');
    if (!agent || agent.status !== 'offline' || (agent.status_changed_at as Date).getTime() > Date.parse(req.since)) return [];
    const rows: ActiveRow[] = await tx('sessions')
      .where({ shop_id: req.shopId, agent_id: req.agentId, status: 'active' })
      .orderBy([{ column: 'assigned_at' }, { column: 'session_id' }])
      .forUpdate()
      .select(...ACTIVE_COLUMNS);
    const out: Reroute[] = [];
    for (const row of rows) {
      const moved = await rerouteOne(tx, row, 'agent_left', req.at);
      if (moved) out.push(moved);
    }
    return out;
  });
}

/**
 * docs/rules.md §9.3: the agent of `assignmentId` has not answered in time. Re-routes the session if that
 * assignment still holds (no transfer, re-route or close came first); else null, changing nothing.
 */
export async function rerouteUnanswered(
  db: Knex,
  req: { shopId: string; sessionId: string; assignmentId: string; at: string; runId: string },
): Promise<Reroute | null> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const row = await tx('sessions')
      .where({ shop_id: req.shopId, session_id: req.sessionId })
      .forUpdate()
      .first(...ACTIVE_COLUMNS, 'status');
    if (!row) return null;
    const holds =
      row.status === 'active' &&
      row.agent_id &&
      row.assigned_at &&
      assignmentIdOf(row.session_id, row.agent_id, row.assigned_at) === req.assignmentId;
    if (!holds) return earlierReroute(tx, req.shopId, req.sessionId, req.assignmentId);
    return rerouteOne(tx, row, 'no_first_reply', req.at, req.runId);
  });
}
