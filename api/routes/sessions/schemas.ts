/** Request and response schemas of the sessions routes: validation, types and the OpenAPI description. */
import { SESSION_POLICIES } from '../../../domain/session';
import { errorResponses, externalId, pageQuery, securedByShopKey, sessionParams, shopParams } from '../../schemas';

export type SessionParams = { shopId: string; sessionId: string };

export const sessionRecordSchema = { $ref: 'Session#' } as const;

export const liveViewSchema = { $ref: 'LiveSession#' } as const;

export const startSessionSchema = {
  operationId: 'startSession',
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
} as const;

export const listSessionsSchema = {
  operationId: 'listSessions',
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
} as const;

export const getSessionSchema = {
  operationId: 'getSession',
  tags: ['sessions'],
  summary: "One session: its Postgres record, every close it has had, and while its run is open the run's live state and next deadline",
  security: securedByShopKey,
  params: sessionParams,
  response: {
    200: {
      type: 'object',
      properties: {
        session: sessionRecordSchema,
        live: {
          anyOf: [liveViewSchema, { type: 'null' }],
          description: "The run's live state while its run is open; null once it has ended",
        },
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
} as const;

export const reportMessageSchema = {
  operationId: 'reportMessage',
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
} as const;

export const requestHumanSchema = {
  operationId: 'requestHuman',
  tags: ['sessions'],
  summary: 'The buyer asks for a human (转人工): route to an agent, queue, or leave an offline message',
  description:
    'Answers once routed, with the session record and, when queued, its place in the queue (1 = served next). A closed session answers 409 session_closed; one waiting in the offline-message pool 409 session_in_offline_pool.',
  security: securedByShopKey,
  params: sessionParams,
  response: {
    200: { type: 'object', properties: { session: sessionRecordSchema, queuePosition: { type: ['integer', 'null'] } } },
    ...errorResponses,
  },
} as const;

export const closeSessionSchema = {
  operationId: 'closeSession',
  tags: ['sessions'],
  summary: 'Close the session (closed_by_agent / closed_by_buyer); answers with the final state',
  description:
    'If a timer closed the session first, the answer carries that reason instead. A closed session answers 409 session_closed; one waiting in the offline-message pool (nobody was online) 409 session_in_offline_pool.',
  security: securedByShopKey,
  params: sessionParams,
  body: {
    type: 'object',
    required: ['by'],
    additionalProperties: false,
    properties: { by: { type: 'string', enum: ['agent', 'buyer'] } },
  },
  response: { 200: liveViewSchema, ...errorResponses },
} as const;

export const leaveQueueSchema = {
  operationId: 'leaveQueue',
  tags: ['sessions'],
  summary: 'The buyer leaves the queue: the session closes (left_queue) and becomes an offline message',
  security: securedByShopKey,
  params: sessionParams,
  response: { 200: liveViewSchema, ...errorResponses },
} as const;
