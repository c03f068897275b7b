/** Request and response schemas of the shop routes: validation, types and the OpenAPI description. */
import { errorResponses, securedByShopKey, shopParams } from '../../schemas';

export const shopSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    timeZone: { type: 'string', description: 'IANA zone of the shop: distribution windows and shop days follow it' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const getShopSchema = {
  operationId: 'getShop',
  tags: ['shop'],
  summary: 'The shop: name, time zone, created',
  security: securedByShopKey,
  params: shopParams,
  response: { 200: shopSchema, ...errorResponses },
} as const;

export const updateShopSchema = {
  operationId: 'updateShop',
  tags: ['shop'],
  summary: 'Rename the shop or change its time zone',
  description:
    'A new time zone reaches the shop workflow as the update updateShopTimeZone: the next distribution slot is planned in it at once, and daily counts are reported in it from then on. invalid_time_zone for a zone this server does not know.',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    additionalProperties: false,
    description: 'name, timeZone or both; changedBy alone changes nothing and is refused (invalid_request)',
    minProperties: 1,
    // changedBy is optional, so minProperties cannot say "name or timeZone"; anyOf would upset generated clients.
    not: { required: ['changedBy'], maxProperties: 1 },
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      timeZone: { type: 'string', minLength: 1, maxLength: 64 },
      changedBy: { type: 'string', minLength: 1, maxLength: 200, description: 'Merchant user making the change' },
    },
  },
  response: { 200: shopSchema, ...errorResponses },
} as const;
