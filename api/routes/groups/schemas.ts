/** Request and response schemas of the groups routes: validation, types and the OpenAPI description. */
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';

export const scopes = {
  type: 'array',
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
  items: externalId,
  description: 'Reception scope (接待范围): the session topics this group serves, e.g. presales',
} as const;
export const agentIds = { type: 'array', maxItems: 1000, uniqueItems: true, items: externalId } as const;

export const groupSchema = { $ref: 'RoutingGroup#' } as const;

export const groupParams = {
  type: 'object',
  required: ['shopId', 'groupId'],
  properties: { ...shopParams.properties, groupId: externalId },
} as const;

export const createGroupSchema = {
  operationId: 'createGroup',
  tags: ['groups'],
  summary: 'Create a routing group (分流分组) with its reception scope and members',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['name', 'scopes'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, scopes, agentIds },
  },
  response: { 201: groupSchema, ...errorResponses },
} as const;

export const listGroupsSchema = {
  operationId: 'listGroups',
  tags: ['groups'],
  summary: "The shop's routing groups (an agent's key reads it too, to pick a transfer target)",
  security: securedByShopKey,
  params: shopParams,
  response: { 200: { type: 'object', properties: { items: { type: 'array', items: groupSchema } } }, ...errorResponses },
} as const;

export const updateGroupSchema = {
  operationId: 'updateGroup',
  tags: ['groups'],
  summary: 'Rename a group or change its reception scope',
  security: securedByShopKey,
  params: groupParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, scopes },
  },
  response: { 200: groupSchema, ...errorResponses },
} as const;

export const setGroupMembersSchema = {
  operationId: 'setGroupMembers',
  tags: ['groups'],
  summary: "Replace a group's members (agents of this shop only)",
  security: securedByShopKey,
  params: groupParams,
  body: { type: 'object', required: ['agentIds'], additionalProperties: false, properties: { agentIds } },
  response: { 200: groupSchema, ...errorResponses },
} as const;
