/** Request and response schemas of the admin routes: validation, types and the OpenAPI description. */
import { errorResponses, SHOP_ID_PATTERN } from '../../schemas';

export const shopSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    timeZone: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const createShopSchema = {
  operationId: 'createShop',
  tags: ['admin'],
  summary: 'Create a shop, start its shop workflow, and return its first merchant API key (shown once)',
  security: [{ adminToken: [] }],
  body: {
    type: 'object',
    required: ['id', 'name'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: SHOP_ID_PATTERN },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      timeZone: { type: 'string', default: 'Asia/Shanghai', description: 'IANA time zone for distribution windows and daily counts' },
    },
  },
  response: {
    201: { type: 'object', properties: { shop: shopSchema, apiKey: { type: 'string' } } },
    ...errorResponses,
  },
} as const;

export const getOutboxSchema = {
  tags: ['admin'],
  operationId: 'getOutbox',
  summary: 'Delivery backlog (Postgres → Temporal) and the dead letters',
  security: [{ adminToken: [] }],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
      after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        pending: { type: 'integer' },
        due: { type: 'integer' },
        dead: { type: 'integer' },
        oldestPendingAgeMs: { type: ['integer', 'null'] },
        deadLetters: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              shopId: { type: 'string' },
              kind: { type: 'string' },
              attempts: { type: 'integer' },
              lastError: { type: ['string', 'null'] },
              createdAt: { type: 'string', format: 'date-time' },
              deadAt: { type: 'string', format: 'date-time' },
              payload: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const retryDeadLetterSchema = {
  tags: ['admin'],
  operationId: 'retryDeadLetter',
  summary: 'Put a dead letter back into delivery with fresh attempts',
  security: [{ adminToken: [] }],
  params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } },
  response: { 202: { type: 'object', properties: { retrying: { type: 'boolean' } } }, ...errorResponses },
} as const;

export const issueMerchantKeyAsAdminSchema = {
  operationId: 'issueMerchantKeyAsAdmin',
  tags: ['admin'],
  summary: 'Issue another merchant API key for a shop (shown once)',
  security: [{ adminToken: [] }],
  params: { type: 'object', required: ['shopId'], properties: { shopId: { type: 'string', pattern: SHOP_ID_PATTERN } } },
  response: { 201: { type: 'object', properties: { apiKey: { type: 'string' } } }, ...errorResponses },
} as const;
