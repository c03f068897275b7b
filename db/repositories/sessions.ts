import type { Knex } from 'knex';
import type { SessionRecord } from '../../contracts/shapes';
import { BUYER_IDLE_MINUTES_DEFAULT } from '../../domain/limits';
import {
  snapshotFor,
  type CloseReason,
  type SessionPolicy,
  type SessionSettingsSnapshot,
  type SessionStatus,
  type StartSessionRequest,
} from '../../domain/session';
import { appendEvent, appendEventCtes, eventBindings } from './events';
import { announceQueueMoves } from './queue-moves';
import { SETTINGS_IN_FORCE_SQL } from './session-settings';
import { closeFacts, recordFacts } from './service-facts';
import type { PendingReplies } from '../../domain/conversation-machine';
import { assignmentOfRow, drainQueueForAgent, freeSeat, insertOfflineMessage, lockShopRouting, type Assignment } from './routing';

/**
 * Records a new session with the shop's settings in force now (docs/rules.md §1.2) and appends its
 * `session.opened` event, in one statement: a start pays one round trip to Postgres, not seven.
 * Idempotent: a second call for the same session returns the snapshot the first one stored.
 */
const OPEN_SESSION_SQL = `
WITH snap AS (${SETTINGS_IN_FORCE_SQL}),
ins AS (
  INSERT INTO sessions (shop_id, session_id, buyer_id, topic, wants_human, bot_engaged, policy, settings_version, settings_snapshot, status, created_at)
  SELECT :shopId, :sessionId, :buyerId, :topic, :wantsHuman, :botEngaged, :policy, snap.version,
         CAST(:snapshot AS jsonb) || jsonb_build_object('settingsVersion', snap.version, 'buyerIdleMinutes', snap.buyer_idle_minutes)
           || CASE WHEN snap.first_reply_minutes IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('firstReplyMinutes', snap.first_reply_minutes) END,
         'open', CAST(:at AS timestamptz)
  FROM snap
  ON CONFLICT (shop_id, session_id) DO NOTHING
  RETURNING settings_snapshot),
${appendEventCtes('ins', "CAST(:data AS jsonb) || jsonb_build_object('settingsSnapshot', (SELECT settings_snapshot FROM ins))")}
SELECT ins.settings_snapshot, (SELECT count(*) FROM wake) AS woken FROM ins`;

export async function openSession(
  db: Knex,
  req: StartSessionRequest & { at: string },
): Promise<{ snapshot: SessionSettingsSnapshot; created: boolean }> {
  // The snapshot's shape and constants come from snapshotFor; the statement fills in the shop's version and idle minutes.
  const base = snapshotFor(0, BUYER_IDLE_MINUTES_DEFAULT, req.policy);
  const data = {
    sessionId: req.sessionId,
    buyerId: req.buyerId,
    topic: req.topic,
    wantsHuman: req.wantsHuman,
    botEngaged: req.botEngaged,
    policy: req.policy,
  };
  const { rows } = await db.raw(OPEN_SESSION_SQL, {
    shopId: req.shopId,
    sessionId: req.sessionId,
    buyerId: req.buyerId,
    topic: req.topic,
    wantsHuman: req.wantsHuman,
    botEngaged: req.botEngaged,
    policy: req.policy,
    snapshot: JSON.stringify(base),
    at: req.at,
    data: JSON.stringify(data),
    ...eventBindings({ type: 'session.opened', sessionId: req.sessionId, occurredAt: req.at }),
  });
  if (rows.length > 0) return { snapshot: rows[0].settings_snapshot as SessionSettingsSnapshot, created: true };
  // Recorded before (a repeated start or a retried activity): its stored snapshot holds.
  const row = await db('sessions').where({ shop_id: req.shopId, session_id: req.sessionId }).first('settings_snapshot');
  if (!row) throw new Error(`session ${req.shopId}/${req.sessionId} was neither recorded nor found`);
  return { snapshot: row.settings_snapshot as SessionSettingsSnapshot, created: false };
}

export interface CloseSessionRequest {
  shopId: string;
  sessionId: string;
  reason: CloseReason;
  at: string;
  /** Queue timeout and leaving the queue put the buyer's request into the offline-message pool. */
  toOfflinePool: boolean;
  /** Close only a session still queued; if a seat was given to it meanwhile, report that instead. */
  onlyIfQueued: boolean;
  /** The pool message's origin when it is not the queue's (bot_only: the bot talked, no human ever did). */
  offlineOrigin?: 'bot_only';
  lastBuyerMessageAt: string | null;
  lastAgentMessageAt: string | null;
  messageCount: number;
  /** The run's replies not yet recorded (docs/rules.md §10.1): written as facts with the close. */
  replies?: PendingReplies | null;
}

export type CloseOutcome =
  /** closedNow: this call closed it (false: a retry found it closed already). */
  | { kind: 'closed'; closeReason: CloseReason; freedAgentId: string | null; drained: Assignment[]; closedNow?: boolean }
  | { kind: 'assigned_meanwhile'; assignment: Assignment };

/**
 * Closes a session exactly once (a retry finds it closed and changes nothing), frees its agent's
 * seat and hands that seat to the oldest queued session the agent may serve.
 * runId: the calling run, recorded as the one waiting in the pool when the close puts the session there.
 */
export async function closeSession(db: Knex, req: CloseSessionRequest, runId?: string): Promise<CloseOutcome> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, req.shopId);
    const row = await tx('sessions').where({ shop_id: req.shopId, session_id: req.sessionId }).forUpdate().first();
    if (!row) throw new Error(`session ${req.shopId}/${req.sessionId} is not recorded`);
    if (row.status === 'closed')
      return { kind: 'closed', closeReason: row.close_reason, freedAgentId: null, drained: [], closedNow: false };
    if (req.onlyIfQueued && row.status === 'active' && row.agent_id) {
      return { kind: 'assigned_meanwhile', assignment: assignmentOfRow(row) };
    }
    const freedAgentId: string | null = row.status === 'active' ? row.agent_id : null;
    const leftQueue = row.status === 'queued' && row.queued_at ? { sessionId: req.sessionId, queuedAt: row.queued_at as Date } : null;
    await tx('sessions').where({ shop_id: req.shopId, session_id: req.sessionId }).update({
      status: 'closed',
      close_reason: req.reason,
      closed_at: req.at,
      queued_at: null,
      last_buyer_message_at: req.lastBuyerMessageAt,
      last_agent_message_at: req.lastAgentMessageAt,
      message_count: req.messageCount,
    });
    await tx('session_closures').insert({
      shop_id: req.shopId,
      session_id: req.sessionId,
      reason: req.reason,
      closed_at: req.at,
      agent_id: freedAgentId,
      message_count: req.messageCount,
    });
    await recordFacts(
      tx,
      req.shopId,
      closeFacts({
        sessionId: req.sessionId,
        reason: req.reason,
        at: req.at,
        agentId: freedAgentId,
        assignedAt: freedAgentId ? (row.assigned_at as Date | null) : null,
        queuedAt: leftQueue?.queuedAt ?? null,
        replies: req.replies,
      }),
    );
    await appendEvent(tx, req.shopId, {
      type: 'session.closed',
      sessionId: req.sessionId,
      occurredAt: req.at,
      data: {
        sessionId: req.sessionId,
        reason: req.reason,
        closedAt: req.at,
        agentId: freedAgentId,
        settingsSnapshot: row.settings_snapshot,
        toOfflinePool: req.toOfflinePool,
      },
    });
    if (leftQueue) await announceQueueMoves(tx, req.shopId, leftQueue, req.at);
    if (req.toOfflinePool) {
      await insertOfflineMessage(tx, row, req.offlineOrigin ?? (req.reason === 'queue_timeout' ? 'queue_timeout' : 'left_queue'), req.at);
      // The run waits in the pool for its assignment (see conversationWorkflow).
      await tx('sessions')
        .where({ shop_id: req.shopId, session_id: req.sessionId })
        .update({ awaiting_run: true, pool_run_id: runId ?? null });
    }
    let drained: Assignment[] = [];
    if (freedAgentId) {
      await freeSeat(tx, freedAgentId);
      drained = await drainQueueForAgent(tx, req.shopId, freedAgentId, req.at);
    }
    return { kind: 'closed', closeReason: req.reason, freedAgentId, drained, closedNow: true };
  });
}

/** The API's Session shape (contracts/shapes.ts): the schema is its one definition. */
export type { SessionRecord };

const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

interface SessionRow {
  shop_id: string;
  session_id: string;
  buyer_id: string;
  topic: string;
  wants_human: boolean;
  bot_engaged: boolean;
  policy: SessionPolicy;
  status: SessionStatus;
  agent_id: string | null;
  settings_snapshot: SessionSettingsSnapshot;
  queued_at: Date | null;
  assigned_at: Date | null;
  close_reason: CloseReason | null;
  closed_at: Date | null;
  message_count: number;
  created_at: Date;
  assignment_reason: string | null;
}

/** The session columns plus its latest assignment's reason (one index probe per row). */
function selectWithAssignment(db: Knex): Knex.QueryBuilder {
  return db('sessions as s').select(
    's.*',
    db.raw(
      `(SELECT ar.reason FROM assignment_records ar WHERE ar.shop_id = s.shop_id AND ar.session_id = s.session_id AND ar.outcome = 'assigned' ORDER BY ar.id DESC LIMIT 1) AS assignment_reason`,
    ),
  );
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    shopId: row.shop_id,
    sessionId: row.session_id,
    buyerId: row.buyer_id,
    topic: row.topic,
    wantsHuman: row.wants_human,
    botEngaged: row.bot_engaged,
    policy: row.policy,
    status: row.status,
    agentId: row.agent_id,
    settingsSnapshot: row.settings_snapshot,
    queuedAt: isoOrNull(row.queued_at),
    assignedAt: isoOrNull(row.assigned_at),
    closeReason: row.close_reason,
    closedAt: isoOrNull(row.closed_at),
    messageCount: row.message_count,
    createdAt: row.created_at.toISOString(),
    assignmentReason: row.assignment_reason ?? null,
  };
}

export async function getSession(db: Knex, shopId: string, sessionId: string): Promise<SessionRecord | null> {
  const row = await selectWithAssignment(db).where({ 's.shop_id': shopId, 's.session_id': sessionId }).first();
  return row ? toRecord(row as SessionRow) : null;
}

export interface SessionClosure {
  reason: CloseReason;
  closedAt: string;
  agentId: string | null;
  messageCount: number;
}

/** Every close of the session, oldest first; one more than the row shows once it was reopened from the pool. */
export async function listSessionClosures(db: Knex, shopId: string, sessionId: string): Promise<SessionClosure[]> {
  const rows: { reason: CloseReason; closed_at: Date; agent_id: string | null; message_count: number }[] = await db('session_closures')
    .where({ shop_id: shopId, session_id: sessionId })
    .orderBy([{ column: 'closed_at' }, { column: 'id' }])
    .select('reason', 'closed_at', 'agent_id', 'message_count');
  return rows.map((r) => ({ reason: r.reason, closedAt: r.closed_at.toISOString(), agentId: r.agent_id, messageCount: r.message_count }));
}

export type SessionListFilter = 'all' | 'queued' | 'active' | 'closed' | 'open' | 'offline';

/** Position after the last row of a page: its sort time (created_at, or queued_at for the queue) and id. */
export interface SessionCursor {
  at: string;
  sessionId: string;
}

/**
 * A page of a shop's sessions, newest first (the queue: oldest first, the order it is served in).
 * Keyset paging on (created_at, session_id) keeps deep pages cheap.
 */
export async function listSessions(
  db: Knex,
  shopId: string,
  opts: { filter: SessionListFilter; limit: number; cursor?: SessionCursor; agentId?: string },
): Promise<SessionRecord[]> {
  const q = selectWithAssignment(db).where({ 's.shop_id': shopId });
  if (opts.agentId) q.where({ 's.agent_id': opts.agentId });
  if (opts.filter === 'queued') {
    q.where({ status: 'queued' }).orderBy([{ column: 'queued_at' }, { column: 'session_id' }]);
    if (opts.cursor) q.whereRaw('(queued_at, session_id) > (?, ?)', [opts.cursor.at, opts.cursor.sessionId]);
  } else {
    if (opts.filter !== 'all') q.where({ status: opts.filter });
    q.orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'session_id', order: 'desc' },
    ]);
    if (opts.cursor) q.whereRaw('(created_at, session_id) < (?, ?)', [opts.cursor.at, opts.cursor.sessionId]);
  }
  const rows = await q.limit(opts.limit);
  return (rows as SessionRow[]).map(toRecord);
}

/**
 * The session's run stops waiting in the offline pool (its wait expired). Under the routing lock, so
 * an assignment either committed before (and is returned, to be applied by the run) or comes after
 * and sees awaiting_run = false (and starts a new run).
 */
export async function releasePoolWait(db: Knex, shopId: string, sessionId: string, since: string): Promise<Assignment | null> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, shopId);
    const row = await tx('sessions').where({ shop_id: shopId, session_id: sessionId }).forUpdate().first();
    if (!row) return null;
    if (row.status === 'active' && row.agent_id && row.assigned_at && row.assigned_at >= new Date(since)) {
      const record = await tx('assignment_records')
        .where({ shop_id: shopId, session_id: sessionId, agent_id: row.agent_id, outcome: 'assigned' })
        .orderBy('id', 'desc')
        .first('operator', 'reason');
      return { ...assignmentOfRow(row), ...(record ? { operator: record.operator, reason: record.reason } : {}) };
    }
    await tx('sessions').where({ shop_id: shopId, session_id: sessionId }).update({ awaiting_run: false, pool_run_id: null });
    return null;
  });
}
