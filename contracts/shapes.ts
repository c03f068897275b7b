/**
 * The records the API answers with, as JSON schemas: each one is the OpenAPI component (registered
 * by api/components.ts), the response serializer's schema, and — through json-schema-to-ts — the
 * TypeScript type the repositories build. One shape, one definition.
 */
import type { FromSchema } from 'json-schema-to-ts';

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
