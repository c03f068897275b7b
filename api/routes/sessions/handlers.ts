/** What the sessions routes do beyond one gateway call: the start's answer, the read, the list page. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FromSchema } from 'json-schema-to-ts';
import { sessionRecordOf } from '../../../contracts/conversation';
import type { SessionRecord } from '../../../contracts/shapes';
import { listTransfers } from '../../../db/repositories/handoffs';
import { queuePlaceOf, queuePositionOf } from '../../../db/repositories/queue-moves';
import { getSession, listSessionClosures, listSessions, type SessionCursor } from '../../../db/repositories/sessions';
import { queryConversation, startConversation } from '../../../temporal/session-gateway';
import { assertMayActOnAgent } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { decodeCursor, encodeCursor } from '../../schemas';
import type { listSessionsSchema, SessionParams, startSessionSchema } from './schemas';

type StartBody = FromSchema<typeof startSessionSchema.body>;
type ListQuery = FromSchema<typeof listSessionsSchema.querystring>;

const isCursor = (v: unknown): v is SessionCursor =>
  typeof v === 'object' && v !== null && typeof (v as SessionCursor).at === 'string' && typeof (v as SessionCursor).sessionId === 'string';

/** A signal or update to a run that is gone: tell "never existed" from "already ended". */
export async function explainMissingRun(req: Pick<FastifyRequest, 'server'> & { params: SessionParams }, err: unknown): Promise<never> {
  if (err instanceof WorkflowNotFoundError) {
    const record = await getSession(req.server.deps.db, req.params.shopId, req.params.sessionId);
    if (!record) throw notFound(`session ${req.params.sessionId}`);
    throw new ApiError('session_not_live', `session ${req.params.sessionId} is ${record.status}; its run has ended`, 409);
  }
  throw err;
}

/** The session's place in the shop's queue (1 = served next) while it is queued; else null. */
export async function placeInQueue(app: FastifyInstance, session: SessionRecord | null): Promise<number | null> {
  return session?.status === 'queued' ? queuePositionOf(app.deps.db, session.shopId, session.sessionId) : null;
}

/** Starts (or finds) the session's run and answers the session as it stands; the same id with other content is refused. */
export async function startSession(app: FastifyInstance, shopId: string, body: StartBody) {
  const { client, taskQueue } = app.deps.temporal;
  const request = {
    shopId,
    sessionId: body.sessionId,
    buyerId: body.buyerId,
    topic: body.topic,
    wantsHuman: body.wantsHuman ?? false,
    botEngaged: body.botEngaged ?? false,
    policy: body.policy ?? 'current',
  };
  const { opened, ...run } = await startConversation(client, taskQueue, request);
  // The run answers with the session as it holds it; an ended session, or a run on a worker from
  // before its view carried the request's flags (a rolling deploy), is read from its row.
  const fromRun = opened !== null && typeof opened.wantsHuman === 'boolean';
  const session = fromRun ? sessionRecordOf(opened) : await getSession(app.deps.db, shopId, body.sessionId);
  // The same id with other content is another session the caller thinks it is starting.
  const differs =
    session &&
    (session.buyerId !== request.buyerId ||
      session.topic !== request.topic ||
      session.botEngaged !== request.botEngaged ||
      session.policy !== request.policy ||
      (request.wantsHuman && !session.wantsHuman));
  if (differs) {
    throw new ApiError('session_exists_different', `session ${body.sessionId} exists with other buyer, topic or flags`, 409, { session });
  }
  return { ...run, session, queuePosition: opened?.queuePosition ?? (await placeInQueue(app, session)) };
}

/** One page of sessions; an agent's key lists its own only. */
export async function listSessionPage(app: FastifyInstance, req: FastifyRequest & { params: { shopId: string }; query: ListQuery }) {
  const cursor = decodeCursor(req.query.cursor, isCursor);
  if (req.query.agentId) assertMayActOnAgent(req, req.query.agentId);
  const agentId = req.credential?.kind === 'agent' ? (req.credential.agentId ?? undefined) : req.query.agentId;
  const items = await listSessions(app.deps.db, req.params.shopId, { filter: req.query.status, limit: req.query.limit, cursor, agentId });
  const last = items.at(-1);
  const nextCursor =
    items.length === req.query.limit && last
      ? encodeCursor({ at: req.query.status === 'queued' ? last.queuedAt : last.createdAt, sessionId: last.sessionId })
      : null;
  return { items, nextCursor };
}

/** The record, the run's live view (null once it ended), the queue place, transfers and closures. */
export async function readSession(app: FastifyInstance, req: FastifyRequest & { params: SessionParams }) {
  const { shopId, sessionId } = req.params;
  const session = await getSession(app.deps.db, shopId, sessionId);
  // An agent's key sees its own sessions only; another agent's is as good as absent.
  if (!session || (req.credential?.kind === 'agent' && session.agentId !== req.credential.agentId)) throw notFound(`session ${sessionId}`);
  const live = await queryConversation(app.deps.temporal.client, shopId, sessionId).catch((err) => {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  });
  const [transfers, closures, queue] = await Promise.all([
    listTransfers(app.deps.db, shopId, sessionId),
    listSessionClosures(app.deps.db, shopId, sessionId),
    session.status === 'queued' ? queuePlaceOf(app.deps.db, shopId, sessionId, new Date()) : null,
  ]);
  return { session, live, queue, transfers, closures };
}
