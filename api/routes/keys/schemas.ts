/** Request and response schemas of the keys routes: validation, types and the OpenAPI description. */
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';

export const keySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: {
      type: 'string',
      enum: ['shop', 'agent'],
      description: "shop: the merchant's (and chat backend's) key; agent: one agent's own key",
    },
    agentId: { type: ['string', 'null'] },
    label: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const listKeysSchema = {
  operationId: 'listKeys',
  tags: ['keys'],
  summary: "The shop's API keys (never the keys themselves: only their hashes are stored)",
  security: securedByShopKey,
  params: shopParams,
  querystring: { type: 'object', properties: { includeRevoked: { type: 'boolean', default: false } } },
  response: { 200: { type: 'object', properties: { items: { type: 'array', items: keySchema } } }, ...errorResponses },
} as const;

export const issueKeySchema = {
  operationId: 'issueKey',
  tags: ['keys'],
  summary: 'Issue a new merchant key, or with agentId a new key for that agent (shown once)',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { agentId: externalId, label: { type: 'string', minLength: 1, maxLength: 200 } },
  },
  response: { 201: { type: 'object', properties: { key: keySchema, apiKey: { type: 'string' } } }, ...errorResponses },
} as const;

export const revokeKeySchema = {
  operationId: 'revokeKey',
  tags: ['keys'],
  summary: 'Revoke a key at once (repeating it is harmless); the last live merchant key cannot be revoked',
  security: securedByShopKey,
  params: { type: 'object', required: ['shopId', 'keyId'], properties: { ...shopParams.properties, keyId: externalId } },
  response: { 200: { type: 'object', properties: { key: keySchema } }, ...errorResponses },
} as const;
