/**
 * The queue as it moves (docs/rules.md §9.4): a queued buyer's current place and estimated wait, and
 * `session.queue_position_changed` when a session ahead leaves the queue, for the places
 * domain/queue.ts says are told (bounded: not the whole queue on every departure).
 */
import type { Knex } from 'knex';
import { QUEUE_SERVING_RATE_WINDOW_MS } from '../../domain/limits';
import { estimatedWaitSeconds, toldQueuePlaces } from '../../domain/queue';
import { appendEvents } from './events';

/** 1 = served next: the shop's queued sessions ahead of this one in FIFO order, plus one. */
export async function queuePositionOf(db: Knex, shopId: string, sessionId: string): Promise<number | null> {
  const row = await db('sessions').where({ shop_id: shopId, session_id: sessionId, status: 'queued' }).first('queued_at');
  if (!row) return null;
  const [{ n }] = await db('sessions')
    .where({ shop_id: shopId, status: 'queued' })
    .whereRaw('(queued_at, session_id) <= (?, ?)', [row.queued_at, sessionId])
    .count({ n: '*' });
  return Number(n);
}

const MOVED_SQL = `
WITH q AS (
  SELECT session_id, queued_at, row_number() OVER (ORDER BY queued_at, session_id) AS position, count(*) OVER () AS length
  FROM sessions WHERE shop_id = :shopId AND status = 'queued')
SELECT session_id, position::int AS position, length::int AS length FROM q
WHERE (queued_at, session_id) > (CAST(:queuedAt AS timestamptz), :sessionId) AND position = ANY (CAST(:told AS int[]))
ORDER BY position`;

/** Every place that is ever told, for any queue a shop can have (a place past the queue's end matches nothing). */
const TOLD_PLACES = `{${toldQueuePlaces(1_000_000_000).join(',')}}`;

/**
 * Call in the transaction that took `removed` out of the queue (assigned, closed), under the shop's
 * routing lock: the sessions behind it that moved up to a told place hear it.
 */
export async function announceQueueMoves(
  tx: Knex.Transaction,
  shopId: string,
  removed: { sessionId: string; queuedAt: Date | string },
  at: string,
): Promise<number> {
  // One statement: the queue's places and its length (no separate count on the drain path).
  const { rows } = (await tx.raw(MOVED_SQL, {
    shopId,
    queuedAt: new Date(removed.queuedAt).toISOString(),
    sessionId: removed.sessionId,
    told: TOLD_PLACES,
  })) as {
    rows: { session_id: string; position: number; length: number }[];
  };
  if (rows.length === 0) return 0;
  await appendEvents(
    tx,
    shopId,
    rows.map((r) => ({
      type: 'session.queue_position_changed' as const,
      sessionId: r.session_id,
      occurredAt: at,
      data: { sessionId: r.session_id, position: r.position, queueLength: r.length },
    })),
  );
  return rows.length;
}

export interface QueuePlace {
  position: number;
  /** null while the shop served nobody from its queue in the window (no rate to estimate from). */
  estimatedWaitSeconds: number | null;
  /** Sessions the queue served in the window the estimate is taken from. */
  servedInWindow: number;
  windowMinutes: number;
}

/**
 * A queued session's place and estimated wait: its place divided by the shop's recent serving rate
 * (sessions assigned from the queue over the last QUEUE_SERVING_RATE_WINDOW_MS up to `asOf`).
 */
export async function queuePlaceOf(db: Knex, shopId: string, sessionId: string, asOf: Date): Promise<QueuePlace | null> {
  const position = await queuePositionOf(db, shopId, sessionId);
  if (position === null) return null;
  const since = new Date(asOf.getTime() - QUEUE_SERVING_RATE_WINDOW_MS);
  const [{ n }] = await db('assignment_records')
    .where({ shop_id: shopId, kind: 'queue', outcome: 'assigned' })
    .where('created_at', '>', since)
    .where('created_at', '<=', asOf)
    .count({ n: '*' });
  const served = Number(n);
  return {
    position,
    estimatedWaitSeconds: estimatedWaitSeconds(position, served, QUEUE_SERVING_RATE_WINDOW_MS),
    servedInWindow: served,
    windowMinutes: QUEUE_SERVING_RATE_WINDOW_MS / 60_000,
  };
}
