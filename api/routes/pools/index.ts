import type { FastifyInstance } from 'fastify';
import { sessionShape } from '../../../contracts/shapes';
import { listOfflineMessages } from '../../../db/repositories/offline-messages';
import { listSessions } from '../../../db/repositories/sessions';
import { decodeCursor, encodeCursor, errorResponses, externalId, pageQuery, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

interface PoolCursor {
  at: string;
  id: number;
}
const isPoolCursor = (v: unknown): v is PoolCursor =>
  typeof v === 'object' && v !== null && typeof (v as PoolCursor).at === 'string' && Number.isInteger((v as PoolCursor).id);

export default async function poolRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '/queue',
    {
      schema: {
        operationId: 'listQueue',
        tags: ['pools'],
        summary: 'The queue pool (排队池): sessions waiting for a free agent, first come first served',
        security: securedByShopKey,
        params: shopParams,
        querystring: { type: 'object', properties: { limit: pageQuery.limit } },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    position: { type: 'integer' },
                    // The fields it shares with the Session record are that record's (queuedAt is never null here).
                    sessionId: sessionShape.properties.sessionId,
                    buyerId: sessionShape.properties.buyerId,
                    topic: sessionShape.properties.topic,
                    queuedAt: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const queued = await listSessions(app.deps.db, req.params.shopId, { filter: 'queued', limit: req.query.limit });
      return {
        items: queued.map((s, i) => ({
          position: i + 1,
          sessionId: s.sessionId,
          buyerId: s.buyerId,
          topic: s.topic,
          queuedAt: s.queuedAt,
        })),
      };
    },
  );

  app.get(
    '/offline-messages',
    {
      config: { errors: { 400: ['invalid_cursor'] } },
      schema: {
        operationId: 'listOfflineMessages',
        tags: ['pools'],
        summary: 'The offline-message pool (留言池), newest first',
        security: securedByShopKey,
        params: shopParams,
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['pending', 'assigned', 'skipped'] },
            topic: externalId,
            wantsHuman: { type: 'boolean' },
            ...pageQuery,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: { $ref: 'OfflineMessage#' } }, nextCursor: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const before = decodeCursor(req.query.cursor, isPoolCursor);
      const items = await listOfflineMessages(app.deps.db, req.params.shopId, { ...req.query, before });
      const last = items.at(-1);
      return { items, nextCursor: items.length === req.query.limit && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null };
    },
  );
}
