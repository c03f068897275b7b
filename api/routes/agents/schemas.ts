/** Request and response schemas of the agents routes: validation, types and the OpenAPI description. */
import { AGENT_STATUSES } from '../../../db/repositories/agents';
import { AGENT_CAPACITY_DEFAULT, AGENT_CAPACITY_MAX, AGENT_CAPACITY_MIN } from '../../../domain/limits';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';

export const capacity = {
  type: 'integer',
  minimum: AGENT_CAPACITY_MIN,
  maximum: AGENT_CAPACITY_MAX,
  description: `最大接待人数: concurrent live sessions, ${AGENT_CAPACITY_MIN}–${AGENT_CAPACITY_MAX}`,
} as const;
export const status = {
  type: 'string',
  enum: AGENT_STATUSES,
  description: 'online: receives new sessions; suspended (小休): on a break; offline',
} as const;

export const agentSchema = { $ref: 'Agent#' } as const;

export const agentParams = {
  type: 'object',
  required: ['shopId', 'agentId'],
  properties: { ...shopParams.properties, agentId: externalId },
} as const;

export const createAgentSchema = {
  operationId: 'createAgent',
  tags: ['agents'],
  summary: "Create an agent (客服); the answer carries the agent's own API key, shown once",
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      capacity: { ...capacity, default: AGENT_CAPACITY_DEFAULT },
      status,
    },
  },
  response: { 201: { type: 'object', properties: { agent: agentSchema, apiKey: { type: 'string' } } }, ...errorResponses },
} as const;

export const listAgentsSchema = {
  operationId: 'listAgents',
  tags: ['agents'],
  summary: "The shop's agents with status, capacity and current load (an agent's key reads it too, to pick a transfer target)",
  security: securedByShopKey,
  params: shopParams,
  response: { 200: { type: 'object', properties: { items: { type: 'array', items: agentSchema } } }, ...errorResponses },
} as const;

export const getAgentSchema = {
  operationId: 'getAgent',
  tags: ['agents'],
  summary: 'One agent',
  security: securedByShopKey,
  params: agentParams,
  response: { 200: agentSchema, ...errorResponses },
} as const;

export const updateAgentSchema = {
  operationId: 'updateAgent',
  tags: ['agents'],
  summary: 'Change status (online / suspended / offline), capacity or name',
  description:
    "The merchant key may change any agent of the shop; an agent's own key may change its status and capacity. Coming online or raising capacity hands free seats to the oldest queued sessions at once.",
  security: securedByShopKey,
  params: agentParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { status, capacity, name: { type: 'string', minLength: 1, maxLength: 200 } },
  },
  response: { 200: agentSchema, ...errorResponses },
} as const;
