/**
 * Handoffs (docs/rules.md §9): a session moves from the agent who holds it to another one. Every move
 * is one routing transaction under the shop's lock, like an assignment: the old seat is freed (and
 * handed to the queue), the new one taken, the move recorded with its operator, its event appended
 * and the session's run told through the outbox.
 */
import type { Knex } from 'knex';
import type { TransferRecord } from '../../contracts/shapes';
import { TRANSFER_REASON } from '../../domain/assignment';
import { DomainError } from '../../domain/errors';
import { conversationWorkflowId } from '../../domain/temporal-names';
import { appendEvent } from './events';
import { enqueueOutbox } from './outbox';
import { assignmentIdOf, drainQueueForAgent, lockShopRouting, type Assignment } from './routing';

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
  if (agent.active_sessions >= agent.capacity) throw unavailable('full', `agent ${agentId} has no free seat (${agent.active_sessions}/${agent.capacity})`);
}

/**
 * Transfers an active session (转接). The 6 h agent-reply timer is the run's and keeps counting: a
 * transfer is not a reply. Refusals are DomainErrors and change nothing.
 */
export async function transferSession(db: Knex, req: TransferRequest): Promise<{ transfer: Transfer; drained: Assignment[] }> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const row = await tx('sessions').where({ shop_id: req.shopId, session_id: req.sessionId }).forUpdate().first('status', 'agent_id');
    if (!row || (req.holderMustBe !== undefined && row.agent_id !== req.holderMustBe)) {
      // Another agent's session is as good as absent to an agent's key.
      throw new DomainError('not_found', `session ${req.sessionId} not found`, 404);
    }
    if (row.status !== 'active' || !row.agent_id) {
      throw new DomainError('session_not_active', `session ${req.sessionId} is ${row.status}; only a session with an agent can be transferred`, 409);
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
      if (!picked) throw unavailable('no_free_agent', `no online agent of group ${req.target.toGroupId} other than the holder has a free seat`);
      to = picked;
    }
    const seat = await tx('agents')
      .where({ id: to, shop_id: req.shopId })
      .whereRaw('active_sessions < capacity')
      .update({ active_sessions: tx.raw('active_sessions + 1'), last_assigned_at: req.at });
    if (seat !== 1) throw unavailable('full', `agent ${to} has no free seat`);
    await tx('agents').where({ id: from }).where('active_sessions', '>', 0).update({ active_sessions: tx.raw('active_sessions - 1') });
    await tx('sessions').where({ shop_id: req.shopId, session_id: req.sessionId }).update({ agent_id: to, assigned_at: req.at });
    await tx('assignment_records').insert({
      shop_id: req.shopId,
      session_id: req.sessionId,
      agent_id: to,
      from_agent_id: from,
      operator: req.operator,
      kind: 'transfer',
      outcome: 'assigned',
      reason: TRANSFER_REASON,
      note: req.note,
      group_id: req.target.toGroupId ?? null,
      created_at: req.at,
    });
    const assignmentId = assignmentIdOf(req.sessionId, to, req.at);
    const transfer: Transfer = { assignmentId, fromAgentId: from, toAgentId: to, groupId: req.target.toGroupId ?? null, note: req.note, operator: req.operator, at: req.at };
    await appendEvent(tx, req.shopId, { type: 'session.transferred', sessionId: req.sessionId, occurredAt: req.at, data: { sessionId: req.sessionId, ...transfer } });
    await enqueueOutbox(tx, req.shopId, {
      kind: 'agent_transferred',
      workflowId: conversationWorkflowId(req.shopId, req.sessionId),
      transfer: { assignmentId, agentId: to, operator: req.operator, reason: TRANSFER_REASON, fromAgentId: from },
    });
    // The seat the session left serves the queue, as a close's does.
    const drained = await drainQueueForAgent(tx, req.shopId, from, req.at);
    return { transfer, drained };
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
