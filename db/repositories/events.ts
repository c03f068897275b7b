/**
 * The per-shop event log (docs/rules.md §6). appendEvents runs inside the transaction of the change it
 * describes: the shop row's counter is bumped under its row lock, so `seq` is gapless and a reader
 * never sees seq n+1 before seq n has committed. Listeners hear of new rows by NOTIFY on commit.
 */
import type { Knex } from 'knex';
import type { ShopEvent } from '../../contracts/shapes';
import { eventIdOf, type EventType, type NewEvent } from '../../domain/events';

export const EVENTS_CHANNEL = 'events_ready';

export async function appendEvents(tx: Knex.Transaction, shopId: string, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const [{ last_event_seq: last }] = await tx('shops')
    .where({ id: shopId })
    .update({ last_event_seq: tx.raw('last_event_seq + ?', [events.length]) })
    .returning('last_event_seq');
  const first = Number(last) - events.length + 1;
  await tx('events').insert(
    events.map((e, i) => ({
      shop_id: shopId,
      seq: first + i,
      type: e.type,
      session_id: e.sessionId ?? null,
      data: JSON.stringify(e.data),
      ...(e.occurredAt ? { occurred_at: e.occurredAt } : {}),
    })),
  );
  await tx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, shopId]);
}

/**
 * The same append as appendEvents, for one event, as CTEs inside a single statement: `bump`, `evt`
 * and `wake`, which append only when the CTE `gate` has a row. The statement binds :shopId,
 * :eventType, :eventSessionId, :eventAt and :eventsChannel (eventBindings), and its final SELECT
 * must read `wake` (a plain SELECT CTE runs only when read). `dataSql` is the event's data.
 */
export function appendEventCtes(gate: string, dataSql: string): string {
  return `bump AS (
  UPDATE shops SET last_event_seq = last_event_seq + 1 WHERE id = :shopId AND EXISTS (SELECT 1 FROM ${gate}) RETURNING last_event_seq),
evt AS (
  INSERT INTO events (shop_id, seq, type, session_id, data, occurred_at)
  SELECT :shopId, bump.last_event_seq, :eventType, :eventSessionId, ${dataSql}, CAST(:eventAt AS timestamptz) FROM bump
  RETURNING 1),
wake AS (SELECT pg_notify(:eventsChannel, :shopId) FROM evt)`;
}

export function eventBindings(e: { type: EventType; sessionId: string; occurredAt: string }): Record<string, string> {
  return { eventType: e.type, eventSessionId: e.sessionId, eventAt: e.occurredAt, eventsChannel: EVENTS_CHANNEL };
}

/** Wakes whoever waits for this shop's events (a webhook replay or resume has work without a new event). */
export async function wakeEventReaders(db: Knex, shopId: string): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, shopId]);
}

export async function appendEvent(tx: Knex.Transaction, shopId: string, event: NewEvent): Promise<void> {
  await appendEvents(tx, shopId, [event]);
}

interface EventRow {
  id: number;
  shop_id: string;
  seq: number;
  type: EventType;
  session_id: string | null;
  data: Record<string, unknown>;
  occurred_at: Date;
}

export function toShopEvent(r: EventRow): ShopEvent {
  return {
    id: eventIdOf(r.id),
    shopId: r.shop_id,
    seq: Number(r.seq),
    type: r.type,
    sessionId: r.session_id,
    occurredAt: r.occurred_at.toISOString(),
    data: r.data,
  };
}

export async function listEvents(
  db: Knex,
  shopId: string,
  opts: { after: number; limit: number; types?: readonly string[]; sessionId?: string; agentId?: string },
): Promise<ShopEvent[]> {
  const q = db<EventRow>('events').where({ shop_id: shopId }).where('seq', '>', opts.after).orderBy('seq').limit(opts.limit);
  if (opts.types && opts.types.length) q.whereIn('type', opts.types as string[]);
  if (opts.sessionId) q.where({ session_id: opts.sessionId });
  // An agent's view: the events that name that agent (its assignments, closes, status changes).
  // A transfer or re-route names both agents: each of their desks hears it.
  if (opts.agentId)
    q.whereRaw("(data->>'agentId' = ? OR data->>'fromAgentId' = ? OR data->>'toAgentId' = ?)", [opts.agentId, opts.agentId, opts.agentId]);
  return ((await q) as EventRow[]).map(toShopEvent);
}

export async function getEventBySeq(db: Knex, shopId: string, seq: number): Promise<ShopEvent | null> {
  const row = await db<EventRow>('events').where({ shop_id: shopId, seq }).first();
  return row ? toShopEvent(row as EventRow) : null;
}

/** The shop's newest cursor: a stream or webhook created now starts after it. */
export async function lastEventSeq(db: Knex, shopId: string): Promise<number> {
  const row = await db('shops').where({ id: shopId }).first('last_event_seq');
  return row ? Number(row.last_event_seq) : 0;
}
