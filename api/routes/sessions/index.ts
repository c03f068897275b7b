import type { FastifyInstance } from 'fastify';
import { getSession } from '../../../db/repositories/sessions';
import { closeConversation, leaveQueue, reportMessage, requestHuman } from '../../../temporal/session-gateway';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { typed } from '../../typed';
import { explainMissingRun, listSessionPage, placeInQueue, readSession, startSession } from './handlers';
import {
  startSessionSchema,
  listSessionsSchema,
  getSessionSchema,
  reportMessageSchema,
  requestHumanSchema,
  closeSessionSchema,
  leaveQueueSchema,
} from './schemas';

export default async function sessionRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  const { client } = app.deps.temporal;

  app.post(
    '/sessions',
    {
      config: { errors: { 409: ['session_exists_different'], 503: ['session_not_ready'] } },
      schema: startSessionSchema,
    },
    async (req, reply) => reply.code(201).send(await startSession(app, req.params.shopId, req.body)),
  );

  app.get(
    '/sessions',
    {
      config: { ...AGENT_KEY_ALLOWED, errors: { 400: ['invalid_cursor'] } },
      schema: listSessionsSchema,
    },
    async (req) => listSessionPage(app, req),
  );

  app.get(
    '/sessions/:sessionId',
    {
      config: AGENT_KEY_ALLOWED,
      schema: getSessionSchema,
    },
    async (req) => readSession(app, req),
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
      config: { idempotent: true, errors: { 409: ['session_closed', 'session_in_offline_pool', 'session_not_live'] } },
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
      config: {
        idempotent: true,
        errors: { 400: ['invalid_close_request'], 409: ['session_closed', 'session_in_offline_pool', 'session_not_live'] },
      },
      schema: closeSessionSchema,
    },
    async (req) => closeConversation(client, req.params.shopId, req.params.sessionId, req.body).catch((err) => explainMissingRun(req, err)),
  );

  app.post(
    '/sessions/:sessionId/leave-queue',
    {
      config: { idempotent: true, errors: { 409: ['session_not_queued', 'session_not_live'] } },
      schema: leaveQueueSchema,
    },
    async (req) => leaveQueue(client, req.params.shopId, req.params.sessionId).catch((err) => explainMissingRun(req, err)),
  );
}
