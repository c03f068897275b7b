import type { FastifyInstance } from 'fastify';
import { EVENTS_CHANNEL, listEvents } from '../../../db/repositories/events';
import { EVENT_TYPES } from '../../../domain/events';
import { PAGE_SIZE_MAX } from '../../../domain/limits';
import type { FastifyRequest } from 'fastify';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { ApiError } from '../../errors';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

/** Stream keepalive comment, so proxies and clients see a live connection. */
const SSE_KEEPALIVE_MS = 15_000;
const CURSOR_MAX = Number.MAX_SAFE_INTEGER;

const typesParam = {
  type: 'string',
  maxLength: 400,
  pattern: `^(${EVENT_TYPES.map((t) => t.replace(/\./g, '\\.')).join('|')})(,(${EVENT_TYPES.map((t) => t.replace(/\./g, '\\.')).join('|')}))*$`,
  description: `Comma-separated event types to keep (${EVENT_TYPES.join(', ')}); default all`,
} as const;

/** An agent's key reads only the events that name that agent. */
function agentScope(req: FastifyRequest): string | undefined {
  return req.credential?.kind === 'agent' ? (req.credential.agentId ?? undefined) : undefined;
}

function parseTypes(raw: string | undefined): string[] | undefined {
  return raw ? [...new Set(raw.split(','))] : undefined;
}

export default async function eventRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  // Open streams end when the server closes, so shutdown does not wait for their clients.
  const streams = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.abort();
  });

  app.get(
    '/events',
    {
      config: AGENT_KEY_ALLOWED,
      schema: {
        tags: ['events'],
        operationId: 'listEvents',
        summary: "The shop's event log after a cursor, oldest first",
        description:
          "Poll with `after` = the `nextCursor` of the previous page. Every change is here, written in the same transaction as the change. An agent's key reads only the events that name that agent.",
        security: securedByShopKey,
        params: shopParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: {
              type: 'integer',
              minimum: 0,
              maximum: CURSOR_MAX,
              default: 0,
              description: 'Return events with seq greater than this',
            },
            limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: 100 },
            types: typesParam,
            sessionId: { ...externalId, description: "Only this session's events (its timeline)" },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'nextCursor', 'hasMore'],
            properties: {
              items: { type: 'array', items: { $ref: 'ShopEvent#' } },
              nextCursor: { type: 'integer', description: 'Pass as `after` for the next page' },
              hasMore: { type: 'boolean' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const items = await listEvents(app.deps.db, req.params.shopId, {
        after: req.query.after,
        limit: req.query.limit,
        types: parseTypes(req.query.types),
        sessionId: req.query.sessionId,
        agentId: agentScope(req),
      });
      return { items, nextCursor: items.at(-1)?.seq ?? req.query.after, hasMore: items.length === req.query.limit };
    },
  );

  app.get(
    '/events/stream',
    {
      config: { ...AGENT_KEY_ALLOWED, errors: { 400: ['invalid_cursor'] } },
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: "The shop's events as Server-Sent Events",
        description:
          'Each message has `id` = the event seq, `event` = its type and `data` = the event JSON. Reconnect with the `Last-Event-ID` header (or `after`) to resume without gaps. The server closes the stream after `maxSeconds`; clients reconnect.',
        security: securedByShopKey,
        params: shopParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: {
              type: 'integer',
              minimum: 0,
              maximum: CURSOR_MAX,
              description: 'Start after this seq (default: Last-Event-ID, else from now)',
            },
            types: typesParam,
            maxSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 900 },
          },
        },
        response: {
          200: {
            description: 'A stream of events: `id: <seq>`, `event: <type>`, `data: <ShopEvent JSON>`',
            content: { 'text/event-stream': { schema: {} } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { db } = app.deps;
      const shopId = req.params.shopId;
      const lastEventId = req.headers['last-event-id'];
      let cursor: number;
      if (req.query.after !== undefined) cursor = req.query.after;
      else if (typeof lastEventId === 'string' && lastEventId !== '') {
        if (!/^\d{1,15}$/.test(lastEventId)) throw new ApiError('invalid_cursor', 'Last-Event-ID must be an event seq');
        cursor = Number(lastEventId);
      } else {
        const row = await db('shops').where({ id: shopId }).first('last_event_seq');
        cursor = Number(row?.last_event_seq ?? 0);
      }
      const types = parseTypes(req.query.types);
      const agentId = agentScope(req);
      const listener = app.pgListener();
      const closed = new AbortController();
      streams.add(closed);
      req.raw.on('close', () => closed.abort());
      const deadline = setTimeout(() => closed.abort(), req.query.maxSeconds * 1000);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      let lastWrite = Date.now();
      try {
        while (!closed.signal.aborted) {
          const events = await listEvents(db, shopId, { after: cursor, limit: 500, types, agentId });
          for (const e of events) {
            raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
            cursor = e.seq;
            lastWrite = Date.now();
          }
          if (events.length === 500) continue;
          if (Date.now() - lastWrite >= SSE_KEEPALIVE_MS) {
            raw.write(': keepalive\n\n');
            lastWrite = Date.now();
          }
          await listener.wait(EVENTS_CHANNEL, SSE_KEEPALIVE_MS, (p) => p === shopId || p === '', closed.signal);
        }
      } catch (err) {
        req.log.warn({ err, shopId }, 'event stream ended by an error; the client resumes from Last-Event-ID');
      } finally {
        clearTimeout(deadline);
        streams.delete(closed);
        raw.end();
      }
    },
  );
}
