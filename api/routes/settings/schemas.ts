/** Request and response schemas of the settings routes: validation, types and the OpenAPI description. */
import {
  AGENT_LEFT_GRACE_MINUTES_DEFAULT,
  AGENT_LEFT_GRACE_MINUTES_MAX,
  AGENT_LEFT_GRACE_MINUTES_MIN,
  BUYER_IDLE_MINUTES_DEFAULT,
  BUYER_IDLE_MINUTES_MAX,
  BUYER_IDLE_MINUTES_MIN,
  FIRST_REPLY_MINUTES_MAX,
  FIRST_REPLY_MINUTES_MIN,
  FIRST_REPLY_REROUTES_MAX,
} from '../../../domain/limits';
import { AGENT_LEFT_MODES } from '../../../domain/session';
import { errorResponses, securedByShopKey, shopParams } from '../../schemas';

export const agentLeftSchema = {
  type: 'object',
  required: ['mode', 'graceMinutes'],
  additionalProperties: false,
  description: `What happens to an agent's active sessions when it goes offline: keep them, or re-route them after graceMinutes (${AGENT_LEFT_GRACE_MINUTES_MIN}–${AGENT_LEFT_GRACE_MINUTES_MAX}; back within it keeps them). Default reroute after ${AGENT_LEFT_GRACE_MINUTES_DEFAULT}. 小休 always keeps them.`,
  properties: {
    mode: { type: 'string', enum: AGENT_LEFT_MODES },
    graceMinutes: { type: 'integer', minimum: AGENT_LEFT_GRACE_MINUTES_MIN, maximum: AGENT_LEFT_GRACE_MINUTES_MAX },
  },
} as const;
export const firstReplyMinutesSchema = {
  type: ['integer', 'null'],
  minimum: FIRST_REPLY_MINUTES_MIN,
  maximum: FIRST_REPLY_MINUTES_MAX,
  description: `Re-route a session whose agent has not answered the buyer this many minutes after a live, queue or transfer assignment (at most ${FIRST_REPLY_REROUTES_MAX} times; pool assignments exempt); null = off (default). Sessions keep the value they started with.`,
} as const;

export const sessionSettingsSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer', description: '0 = platform default, never changed' },
    buyerIdleMinutes: { type: 'integer' },
    agentLeft: agentLeftSchema,
    firstReplyMinutes: firstReplyMinutesSchema,
    agentReplyTimeoutMinutes: { type: 'integer', description: 'Platform rule (6 h); read-only' },
    changedBy: { type: 'string' },
    changedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const getSessionSettingsSchema = {
  operationId: 'getSessionSettings',
  tags: ['settings'],
  summary: 'Session settings in force (new sessions copy them; running sessions keep their snapshot)',
  security: securedByShopKey,
  params: shopParams,
  response: { 200: sessionSettingsSchema, ...errorResponses },
} as const;

export const updateSessionSettingsSchema = {
  operationId: 'updateSessionSettings',
  tags: ['settings'],
  summary:
    'Change the session settings (buyer-idle, agent-left handoff, first reply); a new version applies at once to sessions started after it',
  description: `buyerIdleMinutes: whole minutes, ${BUYER_IDLE_MINUTES_MIN}–${BUYER_IDLE_MINUTES_MAX} (default ${BUYER_IDLE_MINUTES_DEFAULT}); errors invalid_buyer_idle_minutes. agentReplyTimeoutMinutes is a platform rule: sending it fails with agent_reply_timeout_not_configurable (422). The change reaches the shop workflow as the update updateSessionSettings.`,
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['buyerIdleMinutes'],
    additionalProperties: false,
    properties: {
      // The description says the bounds; a value outside them answers the domain's own code
      // (api/errors.ts maps the schema's refusal of this field to it).
      buyerIdleMinutes: { type: 'integer', minimum: BUYER_IDLE_MINUTES_MIN, maximum: BUYER_IDLE_MINUTES_MAX },
      agentLeft: { ...agentLeftSchema, description: `${agentLeftSchema.description} Omitted: unchanged.` },
      firstReplyMinutes: { ...firstReplyMinutesSchema, description: `${firstReplyMinutesSchema.description} Omitted: unchanged.` },
      agentReplyTimeoutMinutes: { description: 'Not changeable; present only to be refused' },
      changedBy: { type: 'string', minLength: 1, maxLength: 200, description: 'Merchant user making the change' },
    },
    examples: [{ buyerIdleMinutes: 30, agentLeft: { mode: 'reroute', graceMinutes: 5 }, firstReplyMinutes: 3, changedBy: '店长小陈' }],
  },
  response: { 200: sessionSettingsSchema, ...errorResponses },
} as const;
