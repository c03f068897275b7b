import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { queuePlaceOf, queuePositionOf } from '../../../db/repositories/queue-moves';
import type { SessionRecord } from '../../../contracts/shapes';
import { SESSION_POLICIES } from '../../../domain/session';
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
import { decodeCursor, encodeCursor, errorResponses, externalId, pageQuery, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

const sessionParams = {
  type: 'object',
  required: ['shopId', 'sessionId'],
  properties: { ...shopParams.properties, sessionId: externalId },
} as const;

type SessionParams = { shopId: string; sessionId: string };

const sessionRecordSchema = { $ref: 'Session#' } as const;

const liveViewSchema = { $ref: 'LiveSession#' } as const;

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
      schema: {
        tags: ['sessions'],
        summary: 'Start a customer-service session (idempotent per sessionId)',
        description:
          'Starts the session run `conversation:<shopId>:<sessionId>` and answers once the session is recorded with its settings snapshot and, with wantsHuman, routed (assigned, queued or offline). Calling it again with the same sessionId returns the same run and the session as it stands; an ended session is never started again. The same id with another buyer, topic or flags is 409 session_exists_different. 503 session_not_ready: the run exists but has not recorded the session in time (Postgres unavailable); repeat the same call.',
        security: securedByShopKey,
        params: shopParams,
        body: {
          type: 'object',
          required: ['sessionId', 'buyerId', 'topic'],
          additionalProperties: false,
          properties: {
            sessionId: externalId,
            buyerId: externalId,
            topic: { ...externalId, description: 'Reception scope the session belongs to, e.g. presales / aftersales' },
            wantsHuman: { type: 'boolean', default: false, description: 'The buyer asked for a human (转人工)' },
            botEngaged: { type: 'boolean', default: false, description: 'A bot already talked to the buyer' },
            policy: { type: 'string', enum: SESSION_POLICIES, default: 'current', description: 'legacy: created under the old 72 h rule' },
          },
          examples: [{ sessionId: 'conv-20261122-0001', buyerId: 'buyer-8812', topic: 'presales', wantsHuman: true, botEngaged: true }],
        },
        response: {
          201: {
            type: 'object',
            properties: {
              workflowId: { type: 'string' },
              runId: { type: 'string' },
              session: sessionRecordSchema,
              queuePosition: { type: ['integer', 'null'], description: 'While queued: 1 = served next; else null' },
            },
          },
          ...errorResponses,
          503: { $ref: 'Error#' },
        },
      },
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
      schema: {
        tags: ['sessions'],
        summary: 'List sessions from Postgres: all (newest first), queued (queue order), active, closed, open, offline',
        description: "An agent's key lists only that agent's sessions.",
        security: securedByShopKey,
        params: shopParams,
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['all', 'queued', 'active', 'closed', 'open', 'offline'], default: 'all' },
            agentId: { ...externalId, description: "Only this agent's sessions" },
            ...pageQuery,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: sessionRecordSchema }, nextCursor: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
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
      schema: {
        tags: ['sessions'],
        summary:
          "One session: its Postgres record, every close it has had, and while its run is open the run's live state and next deadline",
        security: securedByShopKey,
        params: sessionParams,
        response: {
          200: {
            type: 'object',
            properties: {
              session: sessionRecordSchema,
              live: liveViewSchema,
              queue: {
                type: ['object', 'null'],
                required: ['position', 'estimatedWaitSeconds', 'servedInWindow', 'windowMinutes'],
                additionalProperties: false,
                description:
                  "While queued: the place (1 = served next) and the estimated wait, place ÷ the shop's serving rate (sessions its queue served over the last windowMinutes); estimatedWaitSeconds is null while the queue served nobody in that window. Else null.",
                properties: {
                  position: { type: 'integer', minimum: 1 },
                  estimatedWaitSeconds: { type: ['integer', 'null'] },
                  servedInWindow: { type: 'integer' },
                  windowMinutes: { type: 'integer' },
                },
              },
              transfers: { type: 'array', description: 'Every transfer (转接), oldest first', items: { $ref: 'Transfer#' } },
              closures: {
                type: 'array',
                description: 'Every close, oldest first; a session reopened from the offline pool keeps the close that sent it there',
                items: {
                  type: 'object',
                  properties: {
                    reason: { type: 'string' },
                    closedAt: { type: 'string', format: 'date-time' },
                    agentId: { type: ['string', 'null'] },
                    messageCount: { type: 'integer' },
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
      schema: {
        tags: ['sessions'],
        summary: 'Report a buyer or agent message; re-arms the timer of the side whose turn it is',
        description: 'Sent to the run as signal buyerMessage / agentMessage. A repeated messageId is ignored, so retries are safe.',
        security: securedByShopKey,
        params: sessionParams,
        body: {
          type: 'object',
          required: ['from'],
          additionalProperties: false,
          properties: { from: { type: 'string', enum: ['buyer', 'agent'] }, messageId: externalId, agentId: externalId },
        },
        response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await reportMessage(client, req.params.shopId, req.params.sessionId, req.body).catch((err) => explainMissingRun(req, err));
      return reply.code(202).send({ accepted: true });
    },
  );

  app.post(
    '/sessions/:sessionId/request-human',
    {
      config: { errors: { 409: ['session_closed', 'session_not_live'] } },
      schema: {
        tags: ['sessions'],
        summary: 'The buyer asks for a human (转人工): route to an agent, queue, or leave an offline message',
        description: 'Answers once routed, with the session record and, when queued, its place in the queue (1 = served next).',
        security: securedByShopKey,
        params: sessionParams,
        response: {
          200: { type: 'object', properties: { session: sessionRecordSchema, queuePosition: { type: ['integer', 'null'] } } },
          ...errorResponses,
        },
      },
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
      config: { errors: { 400: ['invalid_close_request'], 409: ['session_closed', 'session_not_live'] } },
      schema: {
        tags: ['sessions'],
        summary: 'Close the session (closed_by_agent / closed_by_buyer); answers with the final state',
        description:
          'If a timer closed the session first, the answer carries that reason instead. A closed session answers 409 session_closed.',
        security: securedByShopKey,
        params: sessionParams,
        body: {
          type: 'object',
          required: ['by'],
          additionalProperties: false,
          properties: { by: { type: 'string', enum: ['agent', 'buyer'] } },
        },
        response: { 200: liveViewSchema, ...errorResponses },
      },
    },
    async (req) => closeConversation(client, req.params.shopId, req.params.sessionId, req.body).catch((err) => explainMissingRun(req, err)),
  );

  app.post(
    '/sessions/:sessionId/leave-queue',
    {
      config: { errors: { 409: ['session_not_queued', 'session_not_live'] } },
      schema: {
        tags: ['sessions'],
        summary: 'The buyer leaves the queue: the session closes (left_queue) and becomes an offline message',
        security: securedByShopKey,
        params: sessionParams,
        response: { 200: liveViewSchema, ...errorResponses },
      },
    },
    async (req) => leaveQueue(client, req.params.shopId, req.params.sessionId).catch((err) => explainMissingRun(req, err)),
  );
}
