/**
 * Live routing (docs/rules.md §2): recent contact, least-loaded online agent of a matching group, queue when
 * full, offline message when nobody is online, and the queue drain when capacity frees.
 *
 * Every routing decision of one shop holds the same transaction-scoped advisory lock. That makes
 * FIFO and capacity exact: a seat that frees is handed to the oldest queued session inside the very
 * transaction that freed it, so a newcomer can never overtake the queue, and no agent passes capacity
 * (the CHECK and the conditional updates below are the second line of defence).
 */
import type { Knex } from 'knex';
import { eligibleSince } from '../../domain/distribution';
import { RECENT_CONTACT_WINDOW_MS } from '../../domain/limits';
import { assignmentIdOf, SYSTEM_OPERATOR, LIVE_ROUTING_REASON, RECENT_CONTACT_REASON, QUEUE_DRAIN_REASON } from '../../domain/assignment';
import { conversationWorkflowId } from '../../domain/temporal-names';
import type { OfflineOrigin } from '../../domain/session';
import { appendEvent, appendEventCtes, eventBindings } from './events';
import { enqueueOutbox } from './outbox';
import { announceQueueMoves, queuePositionOf } from './queue-moves';
import { recordFacts, recordFactsCtes } from './service-facts';

export interface Assignment {
  assignmentId: string;
  agentId: string;
  operator: string;
  reason: string;
}

export type RouteOutcome =
  | { kind: 'assigned'; assignment: Assignment }
  | { kind: 'queued'; queuedAt: string; position: number }
  | { kind: 'offline'; offlineMessageId: number };

/** Serialises routing per shop for the rest of the transaction. */
export async function lockShopRouting(tx: Knex.Transaction, shopId: string): Promise<void> {
  await tx.raw(`SELECT pg_advisory_xact_lock(hashtextextended('routing:' || ?, 0))`, [shopId]);
}

/**
 * SQL predicate: agent `agentCol` may serve topic `topicSql` of shop `shopCol`. An agent of a group
 * whose reception scope lists the topic may; when no group of the shop lists it, every agent may
 * (a shop without routing groups still gets served). `topicSql` appears twice: bind it twice.
 */
export function servesTopicSql(agentCol: string, topicSql: string, shopCol: string): string {
  return `(EXISTS (SELECT 1 FROM agent_group_members m JOIN agent_groups g ON g.id = m.group_id
                   WHERE m.agent_id = ${agentCol} AND ${topicSql} = ANY (g.scopes))
           OR NOT EXISTS (SELECT 1 FROM agent_groups g WHERE g.shop_id = ${shopCol} AND ${topicSql} = ANY (g.scopes)))`;
}

interface SessionRow {
  shop_id: string;
  session_id: string;
  buyer_id: string;
  topic: string;
  wants_human: boolean;
  bot_engaged: boolean;
  status: string;
  agent_id: string | null;
  assigned_at: Date | null;
  queued_at: Date | null;
}

/**
 * Takes a seat, moves the session to it, records the assignment and appends `session.assigned`:
 * one statement, so routing holds the shop's lock for one round trip, not six.
 */
const TAKE_SEAT_SQL = `
WITH before AS (
  SELECT queued_at, human_requested_at, first_assigned_at FROM sessions WHERE shop_id = :shopId AND session_id = :sessionId),
seat AS (
  UPDATE agents SET active_sessions = active_sessions + 1, last_assigned_at = CAST(:at AS timestamptz)
  WHERE id = :agentId AND shop_id = :shopId AND active_sessions < capacity
  RETURNING id),
sess AS (
  UPDATE sessions SET status = 'active', agent_id = :agentId, assigned_at = CAST(:at AS timestamptz), queued_at = NULL,
                      human_requested_at = COALESCE(human_requested_at, CAST(:at AS timestamptz)),
                      first_assigned_at = COALESCE(first_assigned_at, CAST(:at AS timestamptz))
  WHERE shop_id = :shopId AND session_id = :sessionId AND EXISTS (SELECT 1 FROM seat)
  RETURNING session_id),
rec AS (
  INSERT INTO assignment_records (shop_id, session_id, agent_id, operator, kind, outcome, reason, created_at)
  SELECT :shopId, :sessionId, :agentId, :operator, :kind, 'assigned', :reason, CAST(:at AS timestamptz) FROM sess
  RETURNING 1),
${appendEventCtes('sess', 'CAST(:data AS jsonb)')},
facts AS (
  -- docs/rules.md §10.1: the assignment (with the time to a human on the session's first) and, from the queue, its wait.
  SELECT :sessionId AS session_id, 'assigned' AS kind, CAST(:kind AS text) AS detail, CAST(:at AS timestamptz) AS at, CAST(:agentId AS text) AS agent_id,
         CASE WHEN b.first_assigned_at IS NULL
              THEN EXTRACT(EPOCH FROM CAST(:at AS timestamptz) - COALESCE(b.human_requested_at, CAST(:at AS timestamptz)))::float8 END AS seconds,
         1 AS n
    FROM before b WHERE EXISTS (SELECT 1 FROM sess)
  UNION ALL
  SELECT :sessionId, 'queue_wait', 'assigned', CAST(:at AS timestamptz), CAST(:agentId AS text),
         EXTRACT(EPOCH FROM CAST(:at AS timestamptz) - b.queued_at)::float8, 1
    FROM before b WHERE b.queued_at IS NOT NULL AND EXISTS (SELECT 1 FROM sess)),
${recordFactsCtes('facts')}
SELECT seat.id, (SELECT count(*) FROM rec) AS recorded, (SELECT count(*) FROM wake) AS woken, (SELECT count(*) FROM fact_rollup) AS facts FROM seat`;

/** Takes one of the agent's seats if it has a free one (under the shop's routing lock); false when full. */
export async function takeFreeSeat(tx: Knex.Transaction, shopId: string, agentId: string, at: string): Promise<boolean> {
  const taken = await tx('agents')
    .where({ id: agentId, shop_id: shopId })
    .whereRaw('active_sessions < capacity')
    .update({ active_sessions: tx.raw('active_sessions + 1'), last_assigned_at: at });
  return taken === 1;
}

/** Gives back one of the agent's seats (never below zero). */
export async function freeSeat(tx: Knex.Transaction, agentId: string): Promise<void> {
  await tx('agents')
    .where({ id: agentId })
    .where('active_sessions', '>', 0)
    .update({ active_sessions: tx.raw('active_sessions - 1') });
}

/** Gives `sessionId` to `agentId` if it still has a free seat; records it; null when full. */
async function takeSeat(
  tx: Knex.Transaction,
  s: { shopId: string; sessionId: string; agentId: string; at: string; reason: string; kind: 'live' | 'queue' },
): Promise<Assignment | null> {
  const assignment = {
    assignmentId: assignmentIdOf(s.sessionId, s.agentId, s.at),
    agentId: s.agentId,
    operator: SYSTEM_OPERATOR,
    reason: s.reason,
  };
  const { rows } = await tx.raw(TAKE_SEAT_SQL, {
    ...s,
    operator: SYSTEM_OPERATOR,
    data: JSON.stringify({ sessionId: s.sessionId, ...assignment, kind: s.kind }),
    ...eventBindings({ type: 'session.assigned', sessionId: s.sessionId, occurredAt: s.at }),
  });
  return rows.length > 0 ? assignment : null;
}

/** The assignment a session row already holds, with the same id its run was (or will be) told. */
export function assignmentOfRow(row: { session_id: string; agent_id: string; assigned_at: Date | string }): Assignment {
  return {
    assignmentId: assignmentIdOf(row.session_id, row.agent_id, row.assigned_at),
    agentId: row.agent_id,
    operator: SYSTEM_OPERATOR,
    reason: LIVE_ROUTING_REASON,
  };
}

function outcomeOfExisting(row: SessionRow): RouteOutcome | null {
  if (row.status === 'active' && row.agent_id && row.assigned_at) {
    return { kind: 'assigned', assignment: assignmentOfRow({ ...row, agent_id: row.agent_id, assigned_at: row.assigned_at }) };
  }
  return null;
}

/**
 * The session row and who may serve it, in one round trip under the shop's routing lock: the agent
 * who last served this buyer within 24 h, even if suspended (docs/rules.md §2.4, §2.8); the least-loaded online
 * agent of a matching group with a free seat (ties: idle longest); whether anyone serving the
 * topic is online (else the offline pool).
 */
const ROW_AND_PICK_SQL = `
WITH r AS (SELECT * FROM sessions WHERE shop_id = :shopId AND session_id = :sessionId)
SELECT r.*,
  (SELECT CASE WHEN a.status IN ('online', 'suspended') THEN a.id END
     FROM sessions s JOIN agents a ON a.id = s.agent_id
    WHERE s.shop_id = r.shop_id AND s.buyer_id = r.buyer_id AND s.session_id <> r.session_id AND s.assigned_at IS NOT NULL
      AND (s.closed_at IS NULL OR s.closed_at >= CAST(:windowStart AS timestamptz))
    ORDER BY s.assigned_at DESC LIMIT 1) AS recent_id,
  (SELECT a.id FROM agents a
    WHERE a.shop_id = r.shop_id AND a.status = 'online' AND a.active_sessions < a.capacity AND ${servesTopicSql('a.id', 'r.topic', 'a.shop_id')}
    ORDER BY a.active_sessions ASC, a.last_assigned_at ASC NULLS FIRST, a.id ASC LIMIT 1) AS candidate_id,
  EXISTS (SELECT 1 FROM agents a WHERE a.shop_id = r.shop_id AND a.status = 'online' AND ${servesTopicSql('a.id', 'r.topic', 'a.shop_id')}) AS someone_online
FROM r`;

/**
 * Queues the session last and appends `session.queued` with its place (1 = served next), in one
 * statement under the shop's routing lock. The run's time can predate that of a session another run
 * queued a moment earlier; stamping it no earlier than the last one (+1 ms) keeps the place just told
 * to each buyer true: nobody joins ahead of a session already queued. The run's queue timer counts
 * from the stamp it gets back.
 */
const QUEUE_SESSION_SQL = `
WITH stamp AS (
  SELECT GREATEST(CAST(:at AS timestamptz),
                  (SELECT max(queued_at) FROM sessions WHERE shop_id = :shopId AND status = 'queued' AND session_id <> :sessionId) + interval '1 millisecond') AS at),
upd AS (
  UPDATE sessions SET status = 'queued', queued_at = (SELECT at FROM stamp), human_requested_at = COALESCE(human_requested_at, CAST(:at AS timestamptz))
  WHERE shop_id = :shopId AND session_id = :sessionId RETURNING session_id),
pos AS (
  SELECT count(*) + 1 AS position FROM sessions WHERE shop_id = :shopId AND status = 'queued' AND session_id <> :sessionId),
${appendEventCtes('upd', `CAST(:data AS jsonb) || jsonb_build_object('position', (SELECT position FROM pos), 'queuedAt', to_char((SELECT at FROM stamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`)}
SELECT (SELECT position FROM pos) AS position, (SELECT at FROM stamp) AS queued_at, (SELECT count(*) FROM wake) AS woken`;

/** Queues the session last with its place, under the shop's routing lock (QUEUE_SESSION_SQL). */
export async function queueSession(
  tx: Knex.Transaction,
  shopId: string,
  sessionId: string,
  topic: string,
  at: string,
): Promise<{ queuedAt: string; position: number }> {
  const {
    rows: [queued],
  } = await tx.raw(QUEUE_SESSION_SQL, {
    shopId,
    sessionId,
    at,
    data: JSON.stringify({ sessionId, topic }),
    ...eventBindings({ type: 'session.queued', sessionId, occurredAt: at }),
  });
  return { queuedAt: (queued.queued_at as Date).toISOString(), position: Number(queued.position) };
}

interface ServerPick {
  recent_id: string | null;
  candidate_id: string | null;
  someone_online: boolean;
}

/**
 * Routes a session that wants a human. Idempotent: a retry returns what the first call decided.
 * runId: the calling run, recorded as the one waiting in the pool when nobody is online.
 */
export async function routeSession(db: Knex, shopId: string, sessionId: string, at: string, runId?: string): Promise<RouteOutcome> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, shopId);
    const windowStart = new Date(Date.parse(at) - RECENT_CONTACT_WINDOW_MS).toISOString();
    const {
      rows: [row],
    } = (await tx.raw(ROW_AND_PICK_SQL, { shopId, sessionId, windowStart })) as { rows: (SessionRow & ServerPick)[] };
    if (!row) throw new Error(`session ${shopId}/${sessionId} is not recorded`);
    const existing = outcomeOfExisting(row);
    if (existing) return existing;
    if (row.status === 'queued' && row.queued_at) {
      return { kind: 'queued', queuedAt: row.queued_at.toISOString(), position: (await queuePositionOf(tx, shopId, sessionId)) ?? 1 };
    }
    if (row.status === 'offline') {
      const msg = await tx('offline_messages').where({ shop_id: shopId, session_id: sessionId }).first('id');
      return { kind: 'offline', offlineMessageId: msg.id };
    }
    // Routing runs because the buyer wants a human (at start or 转人工 later): the row, and the
    // offline message it may become, carry that mark (docs/rules.md §2.7).
    if (!row.wants_human) {
      await tx('sessions').where({ shop_id: shopId, session_id: sessionId }).update({ wants_human: true });
      row.wants_human = true;
    }

    if (row.recent_id) {
      const assignment = await takeSeat(tx, { shopId, sessionId, agentId: row.recent_id, at, reason: RECENT_CONTACT_REASON, kind: 'live' });
      if (assignment) return { kind: 'assigned', assignment };
    }
    if (row.candidate_id) {
      const assignment = await takeSeat(tx, {
        shopId,
        sessionId,
        agentId: row.candidate_id,
        at,
        reason: LIVE_ROUTING_REASON,
        kind: 'live',
      });
      if (assignment) return { kind: 'assigned', assignment };
    }
    if (row.someone_online) return { kind: 'queued', ...(await queueSession(tx, shopId, sessionId, row.topic, at)) };

    // The run waits in the pool for its assignment (awaiting_run), so assigning it is a signal, not a start.
    await tx('sessions')
      .where({ shop_id: shopId, session_id: sessionId })
      .update({
        status: 'offline',
        awaiting_run: true,
        pool_run_id: runId ?? null,
        human_requested_at: tx.raw('COALESCE(human_requested_at, ?)', [at]),
      });
    const offlineMessageId = await insertOfflineMessage(tx, row, 'no_agent_online', at);
    return { kind: 'offline', offlineMessageId };
  });
}

export async function insertOfflineMessage(
  tx: Knex.Transaction,
  row: Pick<SessionRow, 'shop_id' | 'session_id' | 'buyer_id' | 'topic' | 'wants_human' | 'bot_engaged'>,
  origin: OfflineOrigin,
  at: string,
): Promise<number> {
  const [created] = await tx('offline_messages')
    .insert({
      shop_id: row.shop_id,
      session_id: row.session_id,
      buyer_id: row.buyer_id,
      topic: row.topic,
      wants_human: row.wants_human,
      bot_engaged: row.bot_engaged,
      origin,
      created_at: at,
    })
    .onConflict(['shop_id', 'session_id'])
    .ignore()
    .returning('id');
  if (!created) return (await tx('offline_messages').where({ shop_id: row.shop_id, session_id: row.session_id }).first('id')).id;
  await recordFacts(tx, row.shop_id, [{ sessionId: row.session_id, kind: 'pool_created', detail: origin, at }]);
  await appendEvent(tx, row.shop_id, {
    type: 'offline_message.created',
    sessionId: row.session_id,
    occurredAt: at,
    data: {
      sessionId: row.session_id,
      offlineMessageId: created.id,
      origin,
      topic: row.topic,
      wantsHuman: row.wants_human,
      botEngaged: row.bot_engaged,
    },
  });
  return created.id;
}

/**
 * Fills `agentId`'s free seats with the oldest queued sessions it may serve (FIFO), telling each
 * session's run through the outbox; seats still free are announced to the shop run. Call with the
 * shop's routing lock held.
 */
export async function drainQueueForAgent(tx: Knex.Transaction, shopId: string, agentId: string, at: string): Promise<Assignment[]> {
  const assigned: Assignment[] = [];
  for (;;) {
    const agent = await tx('agents').where({ id: agentId, shop_id: shopId }).first('status', 'capacity', 'active_sessions');
    if (!agent || agent.status !== 'online' || agent.active_sessions >= agent.capacity) break;
    const next = await tx('sessions as s')
      .where({ 's.shop_id': shopId, 's.status': 'queued' })
      .whereRaw(servesTopicSql('?', 's.topic', 's.shop_id'), [agentId])
      .orderBy([{ column: 's.queued_at' }, { column: 's.session_id' }])
      .first('s.session_id', 's.queued_at');
    if (!next) break;
    const assignment = await takeSeat(tx, { shopId, sessionId: next.session_id, agentId, at, reason: QUEUE_DRAIN_REASON, kind: 'queue' });
    if (!assignment) break;
    await announceQueueMoves(tx, shopId, { sessionId: next.session_id, queuedAt: next.queued_at }, at);
    await enqueueOutbox(tx, shopId, {
      kind: 'agent_assigned',
      workflowId: conversationWorkflowId(shopId, next.session_id),
      assignment,
    });
    assigned.push(assignment);
  }
  // Seats left after the queue and messages waiting in the pool: the shop run may offer them to this
  // agent now (docs/rules.md §3.6). Without waiting messages there is nothing to announce (and nothing to record).
  const after = await tx('agents').where({ id: agentId, shop_id: shopId }).first('status', 'capacity', 'active_sessions');
  if (after?.status === 'online' && after.active_sessions < after.capacity) {
    const waiting = await tx('offline_messages')
      .where({ shop_id: shopId, status: 'pending' })
      .where('created_at', '>=', eligibleSince(at))
      .first('id');
    if (waiting) await enqueueOutbox(tx, shopId, { kind: 'agent_available', shopId, agentId });
  }
  return assigned;
}
