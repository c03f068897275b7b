/** Request and response schemas of the distribution routes: validation, types and the OpenAPI description. */
import { ASSIGNMENT_RECORD_KINDS } from '../../../domain/assignment';
import { distributionRunShape } from '../../../contracts/shapes';
import type { FromSchema } from 'json-schema-to-ts';
import { DISTRIBUTION_RUN_HARD_CAP, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX } from '../../../domain/limits';
import { errorResponses, externalId, pageQuery, rowId, securedByShopKey, shopParams } from '../../schemas';
import { distributionSettingsSchema } from '../../../contracts/shapes';

// eslint-disable-next-line @typescript-eslint/no-unused-vars
const { $id: _runId, ...runFields } = distributionRunShape;

/** What a settings save and a dry run refuse with proposed settings (the domain's rules). */
export const SETTINGS_REFUSALS = [
  'window_not_on_half_hour',
  'windows_overlap',
  'invalid_windows',
  'invalid_target',
  'unknown_groups',
  'unknown_agents',
  'invalid_number',
  'invalid_scope',
  'invalid_time_zone',
  'invalid_distribution_settings',
] as const;

export const runSchema = { $ref: 'DistributionRun#' } as const;

export type SettingsInput = FromSchema<typeof distributionSettingsSchema>;

export const getDistributionSettingsSchema = {
  operationId: 'getDistributionSettings',
  tags: ['distribution'],
  summary: 'Auto-distribution settings in force (version 0 = defaults: on, every half hour all day, routing rules)',
  security: securedByShopKey,
  params: shopParams,
  response: {
    200: {
      type: 'object',
      properties: {
        version: { type: 'integer' },
        settings: distributionSettingsSchema,
        changedBy: { type: 'string' },
        changedAt: { type: 'string' },
      },
    },
    ...errorResponses,
  },
} as const;

export const updateDistributionSettingsSchema = {
  operationId: 'updateDistributionSettings',
  tags: ['distribution'],
  summary: 'Change auto-distribution settings (update updateDistributionSettings of the shop run; versioned)',
  description:
    'Errors: window_not_on_half_hour, windows_overlap, invalid_windows, invalid_target, unknown_groups, unknown_agents, invalid_number, invalid_scope.',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['settings'],
    additionalProperties: false,
    properties: { settings: distributionSettingsSchema, changedBy: { type: 'string', minLength: 1, maxLength: 200 } },
    examples: [
      {
        settings: {
          enabled: true,
          scope: 'human_requested',
          windows: [
            { start: '09:00', end: '12:00' },
            { start: '13:30', end: '22:00' },
          ],
          target: { kind: 'routing_rules' },
          minOnlineAgents: 1,
          maxAvgPending: 5,
          perAgentCap: 10,
        },
        changedBy: '店长小陈',
      },
    ],
  },
  response: {
    200: { type: 'object', properties: { version: { type: 'integer' }, settings: distributionSettingsSchema } },
    ...errorResponses,
  },
} as const;

export const getDistributionScheduleSchema = {
  operationId: 'getDistributionSchedule',
  tags: ['distribution'],
  summary: "The shop run's view: next slot, settings in force, last run",
  security: securedByShopKey,
  params: shopParams,
  response: {
    200: {
      type: 'object',
      properties: {
        timeZone: { type: 'string' },
        nextSlot: { type: ['string', 'null'], format: 'date-time' },
        distribution: { type: 'object', properties: { version: { type: 'integer' }, settings: distributionSettingsSchema } },
        lastRun: { ...runFields, type: ['object', 'null'] },
      },
    },
    ...errorResponses,
  },
} as const;

export const runDistributionNowSchema = {
  operationId: 'runDistributionNow',
  tags: ['distribution'],
  summary: 'Run distribution now with the settings in force (recorded, trigger manual)',
  security: securedByShopKey,
  params: shopParams,
  body: { type: 'object', additionalProperties: false, properties: { requestedBy: { type: 'string', maxLength: 200 } } },
  response: { 200: runSchema, ...errorResponses },
} as const;

export const dryRunDistributionSchema = {
  operationId: 'dryRunDistribution',
  tags: ['distribution'],
  summary: 'What a run would do now, with the settings in force or the proposed ones; assigns and records nothing',
  security: securedByShopKey,
  params: shopParams,
  body: { type: 'object', additionalProperties: false, properties: { settings: distributionSettingsSchema } },
  response: { 200: runSchema, ...errorResponses },
} as const;

export const listDistributionRunsSchema = {
  operationId: 'listDistributionRuns',
  tags: ['distribution'],
  summary: 'Distribution records, newest first: every trigger, successful or not, with counts and failure reasons',
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: PAGE_SIZE_DEFAULT },
      before: { ...rowId, description: 'Only runs with a smaller id (paging)' },
      outcome: { type: 'string', enum: ['succeeded', 'failed'] },
    },
  },
  response: { 200: { type: 'object', properties: { items: { type: 'array', items: runSchema } } }, ...errorResponses },
} as const;

export const getDistributionRunSchema = {
  operationId: 'getDistributionRun',
  tags: ['distribution'],
  summary: 'One run with its assignment and skip records',
  security: securedByShopKey,
  params: {
    type: 'object',
    required: ['shopId', 'runId'],
    properties: { ...shopParams.properties, runId: rowId },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        run: runSchema,
        delivery: {
          type: 'object',
          description: "The assigned sessions' runs being told of their agent: pending, delivered, dead (see /v1/admin/outbox)",
          properties: { pending: { type: 'integer' }, delivered: { type: 'integer' }, dead: { type: 'integer' } },
        },
        records: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              offlineMessageId: { type: 'integer' },
              sessionId: { type: 'string' },
              agentId: { type: ['string', 'null'] },
              operator: { type: 'string' },
              outcome: { type: 'string' },
              reason: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const listAssignmentRecordsSchema = {
  tags: ['distribution'],
  operationId: 'listAssignmentRecords',
  summary: 'Assignment records (分配记录), newest first: who assigned which session to whom, or why it was skipped',
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    properties: {
      limit: pageQuery.limit,
      before: {
        ...rowId,
        description: 'Records with a smaller id (the last id of the previous page)',
      },
      kind: { type: 'string', enum: ASSIGNMENT_RECORD_KINDS },
      outcome: { type: 'string', enum: ['assigned', 'skipped'] },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'offlineMessageId', 'sessionId', 'agentId', 'operator', 'kind', 'outcome', 'reason', 'runId', 'createdAt'],
            properties: {
              id: { type: 'integer' },
              offlineMessageId: { type: ['integer', 'null'] },
              sessionId: { type: 'string' },
              agentId: { type: ['string', 'null'] },
              operator: { type: 'string', description: '系统自动分配 for automatic runs, else the merchant key that assigned' },
              kind: { type: 'string', enum: ASSIGNMENT_RECORD_KINDS },
              outcome: { type: 'string', enum: ['assigned', 'skipped'] },
              reason: {
                type: ['string', 'null'],
                description: 'The message to the agent (离线留言分配), or why the message was skipped',
              },
              runId: { type: ['integer', 'null'] },
              createdAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const getDailyAutoAssignedCountsSchema = {
  operationId: 'getDailyAutoAssignedCounts',
  tags: ['distribution'],
  summary: 'Messages assigned automatically per day (shop time zone), newest day first',
  security: securedByShopKey,
  params: shopParams,
  querystring: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 90, default: 7 } } },
  response: {
    200: {
      type: 'object',
      properties: {
        timeZone: { type: 'string' },
        items: {
          type: 'array',
          items: { type: 'object', properties: { day: { type: 'string' }, autoAssigned: { type: 'integer' } } },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const assignOfflineMessagesSchema = {
  operationId: 'assignOfflineMessages',
  tags: ['pools'],
  summary: "Assign chosen pool messages to an agent by hand; each becomes that agent's session",
  description:
    'Messages no longer pending (already assigned or skipped) are listed in notAssigned with the reason and the agent holding them, never assigned twice. When none could be taken the call is 409 offline_messages_taken with that list in error.details. The operator recorded is the calling key; `operator` is a display name beside it.',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['messageIds', 'agentId'],
    additionalProperties: false,
    properties: {
      messageIds: {
        type: 'array',
        minItems: 1,
        maxItems: DISTRIBUTION_RUN_HARD_CAP,
        uniqueItems: true,
        items: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      },
      agentId: externalId,
      operator: { type: 'string', minLength: 1, maxLength: 200, description: 'The merchant user, recorded as operator' },
    },
    examples: [{ messageIds: [101, 102], agentId: 'agt_0123456789abcdef', operator: '店长小陈' }],
  },
  response: {
    200: {
      type: 'object',
      properties: {
        assigned: { type: 'array', items: { type: 'integer' } },
        notAssigned: {
          type: 'array',
          description: 'Messages not taken by this call, with why and who holds them',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              status: { type: 'string', enum: ['assigned', 'skipped'] },
              reason: { type: ['string', 'null'] },
              agentId: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;
