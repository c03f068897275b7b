import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { queuePlaceOf, queuePositionOf } from '../../../db/repositories/queue-moves';
import type { SessionRecord } from '../../../contracts/shapes';

import { sessionRecordOf } from '../../../contracts/conversation';
import { listTransfers } from '../../../db/repositories/handoffs';
import { getSession, listSessionClosures, listSessions, type SessionCursor } from '../../../db/repositories/sessions';
import {
  closeConversation,
  leaveQueue,
  queryConversation,
  reportMessage,
  requestHuman,
  startConversation,
} from '../../../temporal/session-gateway';
import { AGENT_KEY_ALLOWED, assertMayActOnAgent } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { decodeCursor, encodeCursor } from '../../schemas';
import { typed } from '../../typed';
import {
  type SessionParams,
  startSessionSchema,
  listSessionsSchema,
  getSessionSchema,
  reportMessageSchema,
  requestHumanSchema,
  closeSessionSchema,
  leaveQueueSchema,
} from './schemas';

const isCursor = (v: unknown): v is SessionCursor =>
  typeof v === 'object' && v !== null && typeof (v as SessionCursor).at === 'string' && typeof (v as SessionCursor).sessionId === 'string';

/** A signal or update to a run that is gone: tell "never existed" from "already ended". */
async function explainMissingRun(req: Pick<FastifyRequest, 'server'> & { params: SessionParams }, err: unknown): Promise<never> {
  if (err instanceof WorkflowNotFoundError) {
    const record = await getSession(req.server.deps.db, req.params.shopId, req.params.sessionId);
    if (!record) throw notFound(`session ${req.params.sessionId}`);
    throw new ApiError('session_not_live', `session ${req.params.sessionId} is ${record.status}; its run has ended`, 409);
  }
  throw err;
}

/** The session's place in the shop's queue (1 = served next) while it is queued; else null. */
async function placeInQueue(app: FastifyInstance, session: SessionRecord | null): Promise<number | null> {
  return session?.status === 'queued' ? queuePositionOf(app.deps.db, session.shopId, session.sessionId) : null;
}

export default async function sessionRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  const { client, taskQueue } = app.deps.temporal;

  app.post(
    '/sessions',
    {
      config: { errors: { 409: ['session_exists_different'], 503: ['session_not_ready'] } },
      schema: startSessionSchema,
    },
    async (req, reply) => {
      const started = await startConversation(client, taskQueue, {
        shopId: req.params.shopId,
        sessionId: req.body.sessionId,
        buyerId: req.body.buyerId,
        topic: req.body.topic,
        wantsHuman: req.body.wantsHuman ?? false,
        botEngaged: req.body.botEngaged ?? false,
        policy: req.body.policy ?? 'current',
      });
      const { opened, ...run } = started;
      // The run answers with the session as it holds it; an ended session, or a run on a worker from
      // before its view carried the request's flags (a rolling deploy), is read from its row.
      const fromRun = opened !== null && typeof opened.wantsHuman === 'boolean';
      const session = fromRun ? sessionRecordOf(opened) : await getSession(app.deps.db, req.params.shopId, req.body.sessionId);
      // The same id with other content is another session the caller thinks it is starting.
      const differs =
        session &&
        (session.buyerId !== req.body.buyerId ||
          session.topic !== req.body.topic ||
          session.botEngaged !== (req.body.botEngaged ?? false) ||
          session.policy !== (req.body.policy ?? 'current') ||
          ((req.body.wantsHuman ?? false) && !session.wantsHuman));
      if (differs) {
        throw new ApiError('session_exists_different', `session ${req.body.sessionId} exists with other buyer, topic or flags`, 409, {
          session,
        });
      }
      const queuePosition = opened?.queuePosition ?? (await placeInQueue(app, session));
      return reply.code(201).send({ ...run, session, queuePosition });
    },
  );

  app.get(
    '/sessions',
    {
      config: { ...AGENT_KEY_ALLOWED, errors: { 400: ['invalid_cursor'] } },
      schema: listSessionsSchema,
    },
    async (req) => {
      const cursor = decodeCursor(req.query.cursor, isCursor);
      if (req.query.agentId) assertMayActOnAgent(req, req.query.agentId);
      const agentId = req.credential?.kind === 'agent' ? (req.credential.agentId ?? undefined) : req.query.agentId;
      const items = await listSessions(app.deps.db, req.params.shopId, {
        filter: req.query.status,
        limit: req.query.limit,
        cursor,
        agentId,
      });
      const last = items.at(-1);
      const nextCursor =
        items.length === req.query.limit && last
          ? encodeCursor({ at: req.query.status === 'queued' ? last.queuedAt : last.createdAt, sessionId: last.sessionId })
          : null;
      return { items, nextCursor };
    },
  );

  app.get(
    '/sessions/:sessionId',
    {
      config: AGENT_KEY_ALLOWED,
      schema: getSessionSchema,
    },
    async (req) => {
      const { shopId, sessionId } = req.params;
      const session = await getSession(app.deps.db, shopId, sessionId);
      // An agent's key sees its own sessions only; another agent's is as good as absent.
      if (!session || (req.credential?.kind === 'agent' && session.agentId !== req.credential.agentId))
        throw notFound(`session ${sessionId}`);
      const live = await queryConversation(client, shopId, sessionId).catch((err) => {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      });
      const [transfers, closures, queue] = await Promise.all([
        listTransfers(app.deps.db, shopId, sessionId),
        listSessionClosures(app.deps.db, shopId, sessionId),
        session.status === 'queued' ? queuePlaceOf(app.deps.db, shopId, sessionId, new Date()) : null,
      ]);
      return { session, live, queue, transfers, closures };
    },
  );

  app.post(
    '/sessions/:sessionId/messages',
    {
      config: { errors: { 409: ['session_not_live'] } },
      schema: reportMessageSchema,
    },
    async (req, reply) => {
      await reportMessage(client, req.params.shopId, req.params.sessionId, req.body).catch((err) => explainMissingRun(req, err));
      return reply.code(202).send({ accepted: true });
    },
  );

  app.post(
    '/sessions/:sessionId/request-human',
    {
      config: { errors: { 409: ['session_closed', 'session_in_offline_pool', 'session_not_live'] } },
      schema: requestHumanSchema,
    },
    async (req) => {
      const { shopId, sessionId } = req.params;
      await requestHuman(client, shopId, sessionId).catch((err) => explainMissingRun(req, err));
      const session = await getSession(app.deps.db, shopId, sessionId);
      return { session, queuePosition: await placeInQueue(app, session) };
    },
  );

  app.post(
    '/sessions/:sessionId/close',
    {
      config: { errors: { 400: ['invalid_close_request'], 409: ['session_closed', 'session_in_offline_pool', 'session_not_live'] } },
      schema: closeSessionSchema,
    },
    async (req) => closeConversation(client, req.params.shopId, req.params.sessionId, req.body).catch((err) => explainMissingRun(req, err)),
  );

  app.post(
    '/sessions/:sessionId/leave-queue',
    {
      config: { errors: { 409: ['session_not_queued', 'session_not_live'] } },
      schema: leaveQueueSchema,
    },
    async (req) => leaveQueue(client, req.params.shopId, req.params.sessionId).catch((err) => explainMissingRun(req, err)),
  );
}
