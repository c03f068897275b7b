/**
 * The transactional outbox: rows written in the transaction of a Postgres-side change, delivered to
 * Temporal after commit by the relay (temporal/outbox-relay.ts). Delivery is a pipeline: claim a
 * batch under a lease (FOR UPDATE SKIP LOCKED, no transaction left open while sending), send with
 * bounded concurrency, mark the batch delivered; a failed row backs off and, after
 * OUTBOX_MAX_ATTEMPTS, moves to the dead letter, where it waits for a retry through the admin API.
 */
import type { Knex } from 'knex';
import type { SessionReroute } from '../../domain/conversation-machine';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../../domain/session';

export const OUTBOX_CHANNEL = 'outbox_ready';
/** A claimed row whose relay died is claimable again after this long. */
export const OUTBOX_LEASE_MS = 10_000;
export const OUTBOX_MAX_ATTEMPTS = 12;
const OUTBOX_BACKOFF_BASE_MS = 1_000;
const OUTBOX_BACKOFF_MAX_MS = 5 * 60_000;

/** What session runs are told after a Postgres-side assignment commits. */
export interface AgentAssignedMessage {
  kind: 'agent_assigned';
  workflowId: string;
  assignment: { assignmentId: string; agentId: string; operator: string; reason: string };
}

/** A transfer (转接) committed: the session's run hears its new agent and keeps its timers. */
export interface AgentTransferredMessage {
  kind: 'agent_transferred';
  workflowId: string;
  transfer: AgentAssignedMessage['assignment'] & { fromAgentId: string };
}

/** A re-route committed (docs/rules.md §9.2, §9.3): the run follows its session to the agent, the queue or the pool. */
export interface SessionReroutedMessage {
  kind: 'session_rerouted';
  workflowId: string;
  reroute: SessionReroute;
}

/** An agent went offline holding sessions (its grace starts) or came back (the grace is cancelled). */
export interface AgentLeftMessage {
  kind: 'agent_left';
  shopId: string;
  agentId: string;
  since: string;
  graceMs: number;
}
export interface AgentReturnedMessage {
  kind: 'agent_returned';
  shopId: string;
  agentId: string;
  /** When it came back: only a leave before this is cancelled (a later leave starts its own grace). */
  at?: string;
}

/**
 * An offline message was assigned. awaitingRun: the session's run was waiting in the pool when the
 * assignment committed, so a signal reaches it; otherwise its run ended and starts again with the agent.
 * waitingRunId: that run's Temporal run id, when known (signalled by id: no lookup of the current run).
 */
export interface OfflineAssignedMessage {
  kind: 'offline_assigned';
  workflowId: string;
  awaitingRun?: boolean;
  waitingRunId?: string | null;
  assignment: AgentAssignedMessage['assignment'];
  session: { request: StartSessionRequest; snapshot: SessionSettingsSnapshot; messageCount?: number };
}

/** An agent is online with free seats after a change (came online, more capacity, a session closed). */
export interface AgentAvailableMessage {
  kind: 'agent_available';
  shopId: string;
  agentId: string;
}

export type OutboxMessage =
  | AgentAssignedMessage
  | AgentTransferredMessage
  | SessionReroutedMessage
  | OfflineAssignedMessage
  | AgentAvailableMessage
  | AgentLeftMessage
  | AgentReturnedMessage;

export interface OutboxRow {
  id: number;
  shop_id: string;
  kind: string;
  payload: OutboxMessage;
  attempts: number;
}

/** Written inside the caller's transaction, so the message exists exactly when the change committed. */
export async function enqueueOutbox(tx: Knex.Transaction, shopId: string, message: OutboxMessage): Promise<void> {
  await tx('outbox').insert({ shop_id: shopId, kind: message.kind, payload: JSON.stringify(message) });
  // Delivered to listeners on commit (and folded into one per transaction).
  await tx.raw('SELECT pg_notify(?, ?)', [OUTBOX_CHANNEL, '']);
}

/** Takes up to `limit` due rows under a lease, oldest first; a concurrent relay skips them. */
export async function claimOutbox(db: Knex, limit: number, leaseMs = OUTBOX_LEASE_MS): Promise<OutboxRow[]> {
  const { rows } = await db.raw(
    `UPDATE outbox o SET lease_until = now() + (? * interval '1 millisecond'), attempts = o.attempts + 1
     FROM (SELECT id FROM outbox
           WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED) due
     WHERE o.id = due.id
     RETURNING o.id, o.shop_id, o.kind, o.payload, o.attempts`,
    [leaseMs, limit],
  );
  return (rows as OutboxRow[]).sort((a, b) => a.id - b.id);
}

/** Keeps a claimed batch's lease while it is still being sent (the relay's heartbeat). */
export async function extendOutboxLease(db: Knex, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db('outbox')
    .whereIn('id', ids)
    .whereNull('delivered_at')
    .update({ lease_until: db.raw(`now() + (? * interval '1 millisecond')`, [OUTBOX_LEASE_MS]) });
}

export async function markOutboxDelivered(db: Knex, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db('outbox').whereIn('id', ids).update({ delivered_at: db.fn.now(), lease_until: null, last_error: null });
}

export function outboxBackoffMs(attempts: number): number {
  return Math.min(OUTBOX_BACKOFF_MAX_MS, OUTBOX_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** A failed send: back off, or past the last attempt (or on a permanent error) move to the dead letter. */
export async function markOutboxFailed(
  db: Knex,
  row: Pick<OutboxRow, 'id' | 'attempts'>,
  error: string,
  permanent = false,
): Promise<'retry' | 'dead'> {
  const dead = permanent || row.attempts >= OUTBOX_MAX_ATTEMPTS;
  await db('outbox')
    .where({ id: row.id })
    .update({
      lease_until: null,
      last_error: error.slice(0, 2000),
      ...(dead
        ? { dead_at: db.fn.now() }
        : { next_attempt_at: db.raw(`now() + (? * interval '1 millisecond')`, [outboxBackoffMs(row.attempts)]) }),
    });
  return dead ? 'dead' : 'retry';
}

export interface OutboxStats {
  pending: number;
  due: number;
  dead: number;
  oldestPendingAgeMs: number | null;
}

export async function outboxStats(db: Knex): Promise<OutboxStats> {
  const { rows } = await db.raw(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)::int AS pending,
            count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now())::int AS due,
            count(*) FILTER (WHERE dead_at IS NOT NULL AND delivered_at IS NULL)::int AS dead,
            (extract(epoch FROM now() - min(created_at) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)) * 1000)::bigint AS oldest
     FROM outbox WHERE delivered_at IS NULL`,
  );
  const r = rows[0];
  return { pending: r.pending, due: r.due, dead: r.dead, oldestPendingAgeMs: r.oldest === null ? null : Number(r.oldest) };
}

export interface DeadLetter {
  id: number;
  shopId: string;
  kind: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
  payload: OutboxMessage;
}

export async function listDeadLetters(db: Knex, opts: { limit: number; afterId?: number }): Promise<DeadLetter[]> {
  const q = db('outbox').whereNotNull('dead_at').whereNull('delivered_at').orderBy('id').limit(opts.limit);
  if (opts.afterId) q.where('id', '>', opts.afterId);
  const rows = await q.select('id', 'shop_id', 'kind', 'attempts', 'last_error', 'created_at', 'dead_at', 'payload');
  return rows.map((r) => ({
    id: r.id,
    shopId: r.shop_id,
    kind: r.kind,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deadAt: r.dead_at.toISOString(),
    payload: r.payload,
  }));
}

/** Moves a dead letter back into delivery with fresh attempts; false when there is no such dead row. */
export async function retryDeadLetter(db: Knex, id: number): Promise<boolean> {
  const n = await db('outbox')
    .where({ id })
    .whereNotNull('dead_at')
    .whereNull('delivered_at')
    .update({ dead_at: null, attempts: 0, next_attempt_at: db.fn.now(), lease_until: null });
  if (n > 0) await db.raw('SELECT pg_notify(?, ?)', [OUTBOX_CHANNEL, '']);
  return n > 0;
}

/** Delivery state of the sessions a distribution run assigned. */
export async function outboxStateOfRun(db: Knex, runId: number): Promise<{ pending: number; delivered: number; dead: number }> {
  const { rows } = await db.raw(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)::int AS pending,
            count(*) FILTER (WHERE delivered_at IS NOT NULL)::int AS delivered,
            count(*) FILTER (WHERE dead_at IS NOT NULL AND delivered_at IS NULL)::int AS dead
     FROM outbox WHERE run_id = ?`,
    [runId],
  );
  return rows[0];
}
