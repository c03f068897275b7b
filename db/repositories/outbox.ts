import type { Knex } from 'knex';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../../domain/session';

/** What session runs are told after a Postgres-side assignment commits. */
export interface AgentAssignedMessage {
  kind: 'agent_assigned';
  workflowId: string;
  assignment: { assignmentId: string; agentId: string; operator: string; reason: string };
}

/**
 * An offline message was assigned: the session's run (ended when the message was left) starts
 * again with the agent, from the session row's request and settings snapshot.
 */
export interface OfflineAssignedMessage {
  kind: 'offline_assigned';
  workflowId: string;
  assignment: AgentAssignedMessage['assignment'];
  session: { request: StartSessionRequest; snapshot: SessionSettingsSnapshot; messageCount?: number };
}

/** An agent is online with free seats after a change (came online, more capacity, a session closed). */
export interface AgentAvailableMessage {
  kind: 'agent_available';
  shopId: string;
  agentId: string;
}

export type OutboxMessage = AgentAssignedMessage | OfflineAssignedMessage | AgentAvailableMessage;

export interface OutboxRow {
  id: number;
  shop_id: string;
  kind: string;
  payload: OutboxMessage;
}

/** Written inside the caller's transaction, so the message exists exactly when the change committed. */
export async function enqueueOutbox(tx: Knex.Transaction, shopId: string, message: OutboxMessage): Promise<void> {
  await tx('outbox').insert({ shop_id: shopId, kind: message.kind, payload: JSON.stringify(message) });
}

/**
 * Delivers pending messages one by one, each under a row lock (SKIP LOCKED: two deliverers never
 * send the same row at once) and marked delivered in the same transaction that sent it.
 * A crash after sending but before commit re-sends it; receivers dedupe by assignment id.
 */
export async function deliverOutbox(
  db: Knex,
  send: (message: OutboxMessage) => Promise<void>,
  opts: { shopId?: string; olderThanMs?: number; limit?: number } = {},
): Promise<number> {
  let delivered = 0;
  const limit = opts.limit ?? 1000;
  while (delivered < limit) {
    const sent = await db.transaction(async (tx) => {
      const q = tx<OutboxRow>('outbox').whereNull('delivered_at').orderBy('id').limit(1).forUpdate().skipLocked();
      if (opts.shopId) q.where({ shop_id: opts.shopId });
      if (opts.olderThanMs) q.where('created_at', '<', tx.raw(`now() - (? * interval '1 millisecond')`, [opts.olderThanMs]));
      const row = await q.first();
      if (!row) return false;
      await send(row.payload);
      await tx('outbox').where({ id: row.id }).update({ delivered_at: tx.fn.now() });
      return true;
    });
    if (!sent) break;
    delivered++;
  }
  return delivered;
}
