import type { FastifyInstance } from 'fastify';
import { listEvents } from '../../../db/repositories/events';
import type { FastifyRequest } from 'fastify';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { typed } from '../../typed';
import { listEventsSchema, streamEventsSchema } from './schemas';
import { streamStart, writeEventStream } from './stream';

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
      schema: listEventsSchema,
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
      schema: streamEventsSchema,
    },
    async (req, reply) => {
      const { shopId } = req.params;
      const cursor = await streamStart(app.deps.db, shopId, req.query.after, req.headers['last-event-id']);
      const filter = { types: parseTypes(req.query.types), agentId: agentScope(req) };
      await writeEventStream(app, streams, req, reply, { shopId, cursor, filter, maxSeconds: req.query.maxSeconds });
    },
  );
}
