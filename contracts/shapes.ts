/**
 * The records the API answers with, as JSON schemas: each one is the OpenAPI component (registered
 * by api/components.ts), the response serializer's schema, and — through json-schema-to-ts — the
 * TypeScript type the repositories build. One shape, one definition.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { EVENT_TYPES } from '../domain/events';
import { DISTRIBUTION_RUN_HARD_CAP, EXTERNAL_ID_MAX_LENGTH } from '../domain/limits';
import type { ServiceFigures } from '../domain/service-levels';
import { AGENT_STATUSES, CLOSE_REASONS, OFFLINE_ORIGINS, SESSION_POLICIES, SESSION_STATUSES, TIMER_REASONS } from '../domain/session';

/** An id the caller chooses or the API issued: no spaces or slashes. */
export const externalId = { type: 'string', minLength: 1, maxLength: EXTERNAL_ID_MAX_LENGTH, pattern: '^[^\\s/]+$' } as const;

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const settingsSnapshotShape = {
  type: 'object',
  required: ['settingsVersion', 'policy', 'buyerIdleMinutes', 'agentReplyTimeoutMs', 'queueTimeoutMs'],
  additionalProperties: false,
  properties: {
    settingsVersion: { type: 'integer' },
    policy: { type: 'string', enum: SESSION_POLICIES },
    buyerIdleMinutes: { type: 'integer' },
    agentReplyTimeoutMs: { type: 'integer' },
    queueTimeoutMs: { type: 'integer' },
    firstReplyMinutes: {
      type: ['integer', 'null'],
      description: 'Re-route when the agent has not answered this long after an assignment (absent: off)',
    },
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
    policy: { type: 'string', enum: SESSION_POLICIES },
    status: { type: 'string', enum: SESSION_STATUSES },
    agentId: { type: ['string', 'null'] },
    settingsSnapshot: {
      ...settingsSnapshotShape,
      description: 'The settings the session copied when it started and keeps until it closes',
    },
    queuedAt: nullableTime,
    assignedAt: nullableTime,
    closeReason: {
      type: ['string', 'null'],
      enum: [...CLOSE_REASONS, null],
    },
    closedAt: nullableTime,
    messageCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    assignmentReason: {
      type: ['string', 'null'],
      description: "The latest assignment's message to the agent, e.g. 离线留言分配 for a session from the offline pool",
    },
  },
} as const;
export type SessionRecord = FromSchema<typeof sessionShape>;

/** One transfer (转接) of a session, as recorded with its assignment. */
export const transferShape = {
  $id: 'Transfer',
  type: 'object',
  required: ['assignmentId', 'fromAgentId', 'toAgentId', 'groupId', 'note', 'operator', 'at'],
  additionalProperties: false,
  properties: {
    assignmentId: { type: 'string' },
    fromAgentId: { type: 'string' },
    toAgentId: { type: 'string' },
    groupId: { type: ['string', 'null'], description: 'The routing group it was sent to, when sent to a group' },
    note: { type: ['string', 'null'] },
    operator: { type: 'string', description: 'The key that asked for it' },
    at: { type: 'string', format: 'date-time' },
  },
} as const;
export type TransferRecord = FromSchema<typeof transferShape>;

export const offlineMessageShape = {
  $id: 'OfflineMessage',
  type: 'object',
  required: [
    'id',
    'shopId',
    'sessionId',
    'buyerId',
    'topic',
    'wantsHuman',
    'botEngaged',
    'origin',
    'status',
    'agentId',
    'skipReason',
    'createdAt',
    'resolvedAt',
  ],
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
      enum: OFFLINE_ORIGINS,
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
    status: { type: 'string', enum: AGENT_STATUSES, description: 'online: receives new sessions; suspended (小休): on a break; offline' },
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
  required: [
    'id',
    'shopId',
    'url',
    'eventTypes',
    'description',
    'status',
    'pausedReason',
    'cursor',
    'failingSince',
    'createdByKey',
    'createdAt',
    'updatedAt',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    shopId: { type: 'string' },
    url: { type: 'string' },
    eventTypes: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every event type' },
    description: { type: ['string', 'null'] },
    status: {
      type: 'string',
      enum: ['active', 'paused', 'deleted'],
      description: 'The API lists and returns active and paused endpoints; deleted is the state its delivery run sees',
    },
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
    'wantsHuman',
    'botEngaged',
    'policy',
  ],
  additionalProperties: false,
  properties: {
    // The fields it shares with the Session record are that record's.
    shopId: sessionShape.properties.shopId,
    sessionId: sessionShape.properties.sessionId,
    buyerId: sessionShape.properties.buyerId,
    topic: sessionShape.properties.topic,
    wantsHuman: sessionShape.properties.wantsHuman,
    botEngaged: sessionShape.properties.botEngaged,
    policy: sessionShape.properties.policy,
    status: sessionShape.properties.status,
    agentId: sessionShape.properties.agentId,
    turn: { type: 'string', enum: ['agent', 'buyer'], description: 'Whose message the session waits for' },
    snapshot: { ...settingsSnapshotShape, type: ['object', 'null'] },
    nextDeadline: {
      type: ['object', 'null'],
      required: ['at', 'reason'],
      additionalProperties: false,
      properties: { at: { type: 'string', format: 'date-time' }, reason: { type: 'string', enum: TIMER_REASONS } },
      description: 'The one timer that runs now and the close it leads to',
    },
    firstReplyAt: {
      ...nullableTime,
      description:
        'When the first-reply rule re-routes the session if its agent has not answered by then (null: not running); absent from runs that predate it',
    },
    queuedAt: sessionShape.properties.queuedAt,
    startedAt: { type: 'string', format: 'date-time' },
    lastBuyerMessageAt: nullableTime,
    lastAgentMessageAt: nullableTime,
    messageCount: sessionShape.properties.messageCount,
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
    closedAt: sessionShape.properties.closedAt,
  },
} as const;
export type ConversationView = FromSchema<typeof conversationViewShape>;

/**
 * The OpenAPI component: the run's view. Where it may be absent (the session read, once the run has
 * ended) the property says so itself: a nullable component breaks generated clients.
 */
export const liveSessionShape = {
  ...conversationViewShape,
  $id: 'LiveSession',
  description: "The session run's own state (query sessionState)",
} as const;

const hhmm = {
  type: 'string',
  pattern: '^([01]\\d|2[0-3]):(00|30)$',
  description: 'HH:MM on a half hour (HH:00 or HH:30), 00:00–23:30',
} as const;
export const distributionSettingsSchema = {
  type: 'object',
  required: ['enabled', 'scope', 'windows', 'target', 'minOnlineAgents', 'maxAvgPending', 'perAgentCap'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    scope: {
      type: 'string',
      enum: ['human_requested', 'all'],
      description:
        'human_requested: buyers who asked for a human; all: every offline message (incl. bot conversations); always the last 24 h',
    },
    windows: {
      type: 'array',
      minItems: 1,
      maxItems: 48,
      items: { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: hhmm, end: hhmm } },
      description:
        'Shop time zone; runs at every :00 and :30 inside, both ends included; end before start crosses midnight; windows may not overlap',
    },
    target: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      description: 'routing_rules alone; groups with groupIds; agents with agentIds',
      // Each kind with its list, stated so that generated clients check it too (the kinds exclude each other).
      oneOf: [
        { type: 'object', properties: { kind: { type: 'string', enum: ['routing_rules'] } } },
        { type: 'object', properties: { kind: { type: 'string', enum: ['groups'] } }, required: ['groupIds'] },
        { type: 'object', properties: { kind: { type: 'string', enum: ['agents'] } }, required: ['agentIds'] },
      ],
      properties: {
        kind: { type: 'string', enum: ['routing_rules', 'groups', 'agents'] },
        groupIds: { type: 'array', items: externalId, uniqueItems: true, minItems: 1, description: 'With kind groups: at least one' },
        agentIds: { type: 'array', items: externalId, uniqueItems: true, minItems: 1, description: 'With kind agents: at least one' },
      },
    },
    minOnlineAgents: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Fewer online, not-suspended target agents → run fails insufficient_online_agents',
    },
    maxAvgPending: {
      type: ['number', 'null'],
      minimum: 0,
      description: 'Average live sessions per online target agent above this → avg_pending_exceeded; null = no limit',
    },
    perAgentCap: {
      type: 'integer',
      minimum: 0,
      maximum: DISTRIBUTION_RUN_HARD_CAP,
      description: `Run limit = online target agents × perAgentCap, never above ${DISTRIBUTION_RUN_HARD_CAP}`,
    },
  },
} as const;

export const distributionRunShape = {
  $id: 'DistributionRun',
  type: 'object',
  required: [
    'id',
    'shopId',
    'trigger',
    'slot',
    'at',
    'settingsVersion',
    'settings',
    'outcome',
    'failureReason',
    'onlineAgents',
    'avgPending',
    'runLimit',
    'eligibleCount',
    'assignedCount',
    'skippedCount',
    'perAgent',
  ],
  additionalProperties: false,
  properties: {
    id: { type: ['integer', 'null'], description: 'null for a dry run (nothing recorded)' },
    shopId: { type: 'string' },
    trigger: { type: 'string', enum: ['scheduled', 'manual', 'agent_available', 'dry_run'] },
    slot: { type: ['string', 'null'], format: 'date-time' },
    at: { type: 'string', format: 'date-time' },
    settingsVersion: { type: 'integer' },
    settings: distributionSettingsSchema,
    outcome: { type: 'string', enum: ['succeeded', 'failed'] },
    failureReason: {
      type: ['string', 'null'],
      enum: ['insufficient_online_agents', 'avg_pending_exceeded', 'nothing_eligible', null],
      description:
        'Why a failed run assigned nothing; null when the run succeeded (a run that found nothing has eligibleCount 0). nothing_eligible appears only on runs recorded before that rule',
    },
    onlineAgents: { type: 'integer' },
    avgPending: { type: ['number', 'null'] },
    runLimit: { type: 'integer' },
    eligibleCount: { type: 'integer' },
    assignedCount: { type: 'integer' },
    skippedCount: { type: 'integer' },
    perAgent: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;
/** One distribution run as recorded (or previewed by a dry run). */
export type DistributionRun = FromSchema<typeof distributionRunShape>;

const seconds = (description: string) => ({ type: ['number', 'null'], description }) as const;
const share = (description: string) => ({ type: ['number', 'null'], minimum: 0, maximum: 1, description }) as const;

/** A report's figures for one day, agent, group or the whole range (docs/rules.md §10). */
export const serviceFiguresShape = {
  $id: 'ServiceFigures',
  type: 'object',
  additionalProperties: false,
  required: [
    'sessionsServed',
    'avgTimeToHumanSeconds',
    'firstResponse',
    'responses',
    'avgResponseSeconds',
    'queueWait',
    'abandoned',
    'agentReplyTimeouts',
    'avgHandleSeconds',
    'offlineMessages',
    'transfers',
    'reroutes',
  ],
  properties: {
    sessionsServed: { type: 'integer', description: 'Assignments to an agent (a transfer or re-route gives the receiving agent one more)' },
    avgTimeToHumanSeconds: seconds('Start or 转人工 → the first assignment, over sessions first assigned in the range'),
    firstResponse: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'p50Seconds', 'p90Seconds', 'within30sShare', 'within3minShare'],
      properties: {
        count: { type: 'integer' },
        p50Seconds: seconds('Nearest-rank median, whole seconds below 10 min'),
        p90Seconds: seconds('Nearest-rank 90th percentile'),
        within30sShare: share('Share answered within 30 s'),
        within3minShare: share('Share answered within 3 min'),
      },
    },
    responses: { type: 'integer', description: 'Agent replies to a waiting buyer, first ones included' },
    avgResponseSeconds: seconds('Mean wait of those replies'),
    queueWait: {
      type: 'object',
      additionalProperties: false,
      required: ['served', 'p50Seconds', 'p90Seconds'],
      properties: {
        served: { type: 'integer', description: 'Sessions an agent took from the queue' },
        p50Seconds: seconds('Their queue wait, median'),
        p90Seconds: seconds('Their queue wait, 90th percentile'),
      },
    },
    abandoned: {
      type: 'object',
      additionalProperties: false,
      required: ['leftQueue', 'queueTimeout'],
      properties: { leftQueue: { type: 'integer' }, queueTimeout: { type: 'integer' } },
    },
    agentReplyTimeouts: { type: 'integer', description: 'Sessions closed by the 6 h agent-reply rule' },
    avgHandleSeconds: seconds('Assignment → close, over sessions closed with an agent'),
    offlineMessages: {
      type: 'object',
      additionalProperties: false,
      required: ['created', 'assignedAuto', 'assignedManual'],
      properties: { created: { type: 'integer' }, assignedAuto: { type: 'integer' }, assignedManual: { type: 'integer' } },
    },
    transfers: { type: 'integer', description: 'Transfers away from the agent (转接)' },
    reroutes: { type: 'integer', description: 'Re-routes away from the agent (agent left, no first reply)' },
  },
} as const;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The schema and domain/service-levels.ts's ServiceFigures are one shape: this fails to compile if they part. */
export const serviceFiguresMatch: Same<FromSchema<typeof serviceFiguresShape>, ServiceFigures> = true;

/** One row of a service report: the figures of one day, agent or group, with its key and name. */
export const serviceReportRowShape = {
  $id: 'ServiceReportRow',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'label', ...serviceFiguresShape.required],
  properties: {
    key: { type: 'string', description: 'The day, agent id or group id' },
    label: { type: 'string', description: "The day, or the agent's or group's name" },
    ...serviceFiguresShape.properties,
  },
} as const;
