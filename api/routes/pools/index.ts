import type { FastifyInstance } from 'fastify';
import { listOfflineMessages } from '../../../db/repositories/offline-messages';
import { listSessions } from '../../../db/repositories/sessions';
import { decodeCursor, encodeCursor } from '../../schemas';
import { typed } from '../../typed';
import { listQueueSchema, listOfflineMessagesSchema } from './schemas';

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
      schema: listQueueSchema,
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
      schema: listOfflineMessagesSchema,
    },
    async (req) => {
      const before = decodeCursor(req.query.cursor, isPoolCursor);
      const items = await listOfflineMessages(app.deps.db, req.params.shopId, { ...req.query, before });
      const last = items.at(-1);
      return { items, nextCursor: items.length === req.query.limit && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null };
    },
  );
}
