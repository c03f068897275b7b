/** The event stream (GET /events/stream): the shop's events as Server-Sent Events, woken by Postgres notifications. */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { EVENTS_CHANNEL, listEvents } from '../../../db/repositories/events';
import type { PgListener } from '../../../db/notifications';
import { ApiError } from '../../errors';

/** Stream keepalive comment, so proxies and clients see a live connection. */
const SSE_KEEPALIVE_MS = 15_000;
/** Events read per query; a full page is followed at once by the next. */
const STREAM_PAGE = 500;

export interface StreamFilter {
  types: string[] | undefined;
  agentId: string | undefined;
}

/** Where a stream starts: `after`, else the Last-Event-ID header, else the shop's latest event (from now). */
export async function streamStart(db: Knex, shopId: string, after: number | undefined, lastEventId: string | string[] | undefined) {
  if (after !== undefined) return after;
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (!/^\d{1,15}$/.test(lastEventId)) throw new ApiError('invalid_cursor', 'Last-Event-ID must be an event seq');
    return Number(lastEventId);
  }
  const row = await db('shops').where({ id: shopId }).first('last_event_seq');
  return Number(row?.last_event_seq ?? 0);
}

/**
 * Takes the reply over and writes the events after the cursor, then each new one as it is recorded,
 * until the client leaves, maxSeconds pass or the server closes (which aborts every controller in `streams`).
 */
export async function writeEventStream(
  app: FastifyInstance,
  streams: Set<AbortController>,
  req: FastifyRequest,
  reply: FastifyReply,
  stream: { shopId: string; cursor: number; filter: StreamFilter; maxSeconds: number },
): Promise<void> {
  const listener = app.pgListener();
  const closed = new AbortController();
  streams.add(closed);
  req.raw.on('close', () => closed.abort());
  const deadline = setTimeout(() => closed.abort(), stream.maxSeconds * 1000);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 2000\n\n');
  try {
    await relayEvents(app.deps.db, listener, raw, stream, closed.signal);
  } catch (err) {
    req.log.warn({ err, shopId: stream.shopId }, 'event stream ended by an error; the client resumes from Last-Event-ID');
  } finally {
    clearTimeout(deadline);
    streams.delete(closed);
    raw.end();
  }
}

/** Writes pages of events as SSE messages, a keepalive comment when quiet, and waits for the shop's next event. */
async function relayEvents(
  db: Knex,
  listener: PgListener,
  raw: ServerResponse,
  stream: { shopId: string; cursor: number; filter: StreamFilter },
  signal: AbortSignal,
): Promise<void> {
  const { shopId, filter } = stream;
  let cursor = stream.cursor;
  let lastWrite = Date.now();
  while (!signal.aborted) {
    const events = await listEvents(db, shopId, { after: cursor, limit: STREAM_PAGE, types: filter.types, agentId: filter.agentId });
    for (const e of events) {
      raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      cursor = e.seq;
      lastWrite = Date.now();
    }
    if (events.length === STREAM_PAGE) continue;
    if (Date.now() - lastWrite >= SSE_KEEPALIVE_MS) {
      raw.write(': keepalive\n\n');
      lastWrite = Date.now();
    }
    await listener.wait(EVENTS_CHANNEL, SSE_KEEPALIVE_MS, (p) => p === shopId || p === '', signal);
  }
}
