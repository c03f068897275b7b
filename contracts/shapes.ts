/**
 * The records the API answers with, as JSON schemas: each one is the OpenAPI component (registered
 * by api/components.ts), the response serializer's schema, and — through json-schema-to-ts — the
 * TypeScript type the repositories build. One shape, one definition.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { EVENT_TYPES } from '../domain/events';

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const settingsSnapshotShape = {
  type: 'object',
  required: ['settingsVersion', 'policy', 'buyerIdleMinutes', 'agentReplyTimeoutMs', 'queueTimeoutMs'],
  additionalProperties: false,
  properties: {
    settingsVersion: { type: 'integer' },
    policy: { type: 'string', enum: ['current', 'legacy'] },
    buyerIdleMinutes: { type: 'integer' },
    agentReplyTimeoutMs: { type: 'integer' },
    queueTimeoutMs: { type: 'integer' },
  },
} as const;

export const sessionShape = {
  $id: 'Session',
  type: 'object',
  required: [
    'shopId',
    'sessionId',
    'buyerId',
    'topic',
    'wantsHuman',
    'botEngaged',
    'policy',
    'status',
    'agentId',
    'settingsSnapshot',
    'queuedAt',
    'assignedAt',
    'closeReason',
    'closedAt',
    'messageCount',
    'createdAt',
    'assignmentReason',
  ],
  additionalProperties: false,
  properties: {
    shopId: { type: 'string' },
    sessionId: { type: 'string' },
    buyerId: { type: 'string' },
    topic: { type: 'string' },
    wantsHuman: { type: 'boolean', description: 'The buyer asked for a human (at start or by 转人工)' },
    botEngaged: { type: 'boolean' },
    policy: { type: 'string', enum: ['current', 'legacy'] },
    status: { type: 'string', enum: ['open', 'queued', 'active', 'offline', 'closed'] },
    agentId: { type: ['string', 'null'] },
    settingsSnapshot: { ...settingsSnapshotShape, description: 'The settings the session copied when it started and keeps until it closes' },
    queuedAt: nullableTime,
    assignedAt: nullableTime,
    closeReason: {
      type: ['string', 'null'],
      enum: ['agent_reply_timeout', 'buyer_idle_timeout', 'queue_timeout', 'closed_by_agent', 'closed_by_buyer', 'left_queue', null],
    },
    closedAt: nullableTime,
    messageCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    assignmentReason: { type: ['string', 'null'], description: "The latest assignment's message to the agent, e.g. 离线留言分配 for a session from the offline pool" },
  },
} as const;
export type SessionRecord = FromSchema<typeof sessionShape>;

export const offlineMessageShape = {
  $id: 'OfflineMessage',
  type: 'object',
  required: ['id', 'shopId', 'sessionId', 'buyerId', 'topic', 'wantsHuman', 'botEngaged', 'origin', 'status', 'agentId', 'skipReason', 'createdAt', 'resolvedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    shopId: { type: 'string' },
    sessionId: { type: 'string' },
    buyerId: { type: 'string' },
    topic: { type: 'string' },
    wantsHuman: { type: 'boolean' },
    botEngaged: { type: 'boolean' },
    origin: {
      type: 'string',
      enum: ['no_agent_online', 'queue_timeout', 'left_queue', 'bot_only'],
      description: 'bot_only: the buyer talked only to the bot and never had a human agent',
    },
    status: { type: 'string', enum: ['pending', 'assigned', 'skipped'] },
    agentId: { type: ['string', 'null'] },
    skipReason: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    resolvedAt: nullableTime,
  },
} as const;
export type OfflineMessage = FromSchema<typeof offlineMessageShape>;
export type OfflineMessageStatus = OfflineMessage['status'];

export const agentShape = {
  $id: 'Agent',
  type: 'object',
  required: ['id', 'shopId', 'name', 'status', 'capacity', 'activeSessions', 'groupIds', 'lastAssignedAt', 'statusChangedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    shopId: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['online', 'suspended', 'offline'], description: 'online: receives new sessions; suspended (小休): on a break; offline' },
    capacity: { type: 'integer', description: '最大接待人数: live sessions this agent may hold at once' },
    activeSessions: { type: 'integer', description: 'Live sessions held now' },
    groupIds: { type: 'array', items: { type: 'string' } },
    lastAssignedAt: nullableTime,
    statusChangedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type Agent = FromSchema<typeof agentShape>;

export const routingGroupShape = {
  $id: 'RoutingGroup',
  type: 'object',
  required: ['id', 'shopId', 'name', 'scopes', 'agentIds'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    shopId: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' }, description: 'Topics this group receives (reception scope)' },
    agentIds: { type: 'array', items: { type: 'string' } },
  },
} as const;
export type RoutingGroup = FromSchema<typeof routingGroupShape>;

export const webhookEndpointShape = {
  $id: 'WebhookEndpoint',
  type: 'object',
  required: ['id', 'shopId', 'url', 'eventTypes', 'description', 'status', 'pausedReason', 'cursor', 'failingSince', 'createdByKey', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    shopId: { type: 'string' },
    url: { type: 'string' },
    eventTypes: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every event type' },
    description: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['active', 'paused', 'deleted'], description: 'The API lists and returns active and paused endpoints; deleted is the state its delivery run sees' },
    pausedReason: { type: ['string', 'null'], description: 'Why deliveries stopped (failing too long, or paused by the merchant)' },
    cursor: { type: 'integer', description: 'Every event up to this seq has been delivered' },
    failingSince: { type: ['string', 'null'], format: 'date-time' },
    createdByKey: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type WebhookEndpoint = FromSchema<typeof webhookEndpointShape>;

export const webhookAttemptShape = {
  $id: 'WebhookAttempt',
  type: 'object',
  required: ['id', 'eventSeq', 'webhookId', 'ok', 'statusCode', 'error', 'durationMs', 'attemptedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    eventSeq: { type: ['integer', 'null'], description: 'null for a test send' },
    webhookId: { type: 'string' },
    ok: { type: 'boolean' },
    statusCode: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
    attemptedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type WebhookAttempt = FromSchema<typeof webhookAttemptShape>;

export const shopEventShape = {
  $id: 'ShopEvent',
  type: 'object',
  required: ['id', 'shopId', 'seq', 'type', 'sessionId', 'occurredAt', 'data'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Globally unique event id; the webhook-id of its deliveries' },
    shopId: { type: 'string' },
    seq: { type: 'integer', description: "The shop's cursor: gapless, in commit order" },
    type: { type: 'string', enum: [...EVENT_TYPES] },
    sessionId: { type: ['string', 'null'] },
    occurredAt: { type: 'string', format: 'date-time' },
    data: { type: 'object', additionalProperties: true },
  },
} as const;
/** The envelope every reader gets: the log row, the SSE data, the webhook body. */
export type ShopEvent = FromSchema<typeof shopEventShape>;

/** What a session's run answers with (query sessionState, every update); `LiveSession` in the API, null once the run has ended. */
export const conversationViewShape = {
  type: 'object',
  required: [
    'shopId',
    'sessionId',
    'buyerId',
    'topic',
    'status',
    'agentId',
    'turn',
    'snapshot',
    'nextDeadline',
    'queuedAt',
    'startedAt',
    'lastBuyerMessageAt',
    'lastAgentMessageAt',
    'messageCount',
    'assignments',
    'closeReason',
    'closedAt',
  ],
  additionalProperties: false,
  properties: {
    shopId: { type: 'string' },
    sessionId: { type: 'string' },
    buyerId: { type: 'string' },
    topic: { type: 'string' },
    status: sessionShape.properties.status,
    agentId: { type: ['string', 'null'] },
    turn: { type: 'string', enum: ['agent', 'buyer'], description: "Whose message the session waits for" },
    snapshot: { ...settingsSnapshotShape, type: ['object', 'null'] },
    nextDeadline: {
      type: ['object', 'null'],
      required: ['at', 'reason'],
      additionalProperties: false,
      properties: { at: { type: 'string', format: 'date-time' }, reason: { type: 'string', enum: ['agent_reply_timeout', 'buyer_idle_timeout', 'queue_timeout'] } },
      description: 'The one timer that runs now and the close it leads to',
    },
    queuedAt: nullableTime,
    startedAt: { type: 'string', format: 'date-time' },
    lastBuyerMessageAt: nullableTime,
    lastAgentMessageAt: nullableTime,
    messageCount: { type: 'integer' },
    assignments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['assignmentId', 'agentId', 'operator', 'reason', 'at'],
        additionalProperties: false,
        properties: {
          assignmentId: { type: 'string' },
          agentId: { type: 'string' },
          operator: { type: 'string' },
          reason: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
        },
      },
    },
    closeReason: sessionShape.properties.closeReason,
    closedAt: nullableTime,
  },
} as const;
export type ConversationView = FromSchema<typeof conversationViewShape>;

/** The OpenAPI component: the run's view, or null once the run has ended. */
export const liveSessionShape = {
  ...conversationViewShape,
  $id: 'LiveSession',
  type: ['object', 'null'],
  description: "The session run's own state (query sessionState); null once the run has ended",
} as const;
