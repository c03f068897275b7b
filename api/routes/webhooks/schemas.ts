/** Request and response schemas of the webhooks routes: validation, types and the OpenAPI description. */
import { EVENT_TYPES } from '../../../domain/events';
import { PAGE_SIZE_MAX } from '../../../domain/limits';
import { WEBHOOK_TEST_EVENT_TYPE, WEBHOOK_URL_MAX_LENGTH } from '../../../domain/webhooks';
import { errorResponses, rowId, securedByShopKey, shopParams } from '../../schemas';

export const noNul = '^[^\\u0000]*$';

export const urlField = {
  type: 'string',
  minLength: 8,
  maxLength: WEBHOOK_URL_MAX_LENGTH,
  pattern: '^https?://[^\\s\\u0000]+$',
  description: 'http(s) URL; private and loopback addresses are refused unless the operator allows them',
} as const;

export const eventsField = {
  type: ['array', 'null'],
  items: { type: 'string', enum: [...EVENT_TYPES] },
  uniqueItems: true,
  maxItems: EVENT_TYPES.length,
  description: 'Event types to receive; null or absent: all',
} as const;

export const descriptionField = { type: ['string', 'null'], maxLength: 500, pattern: noNul } as const;

export const endpointParams = {
  type: 'object',
  required: ['shopId', 'endpointId'],
  properties: { ...shopParams.properties, endpointId: { type: 'string', pattern: '^whe_[a-f0-9]{20}$' } },
} as const;

export type EndpointParams = { shopId: string; endpointId: string };

export const createWebhookSchema = {
  tags: ['webhooks'],
  operationId: 'createWebhook',
  summary: 'Register a webhook endpoint; the answer holds its signing secret (shown once)',
  description:
    'Deliveries start with the next event and are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).',
  security: securedByShopKey,
  params: shopParams,
  body: {
    type: 'object',
    required: ['url'],
    additionalProperties: false,
    properties: { url: urlField, events: eventsField, description: descriptionField },
    examples: [{ url: 'https://chat.example.com/hooks/cs', events: ['session.assigned', 'session.closed'], description: 'IM backend' }],
  },
  response: {
    201: {
      type: 'object',
      required: ['endpoint', 'secret'],
      properties: {
        endpoint: { $ref: 'WebhookEndpoint#' },
        secret: { type: 'string', description: 'whsec_…: verify signatures with it; shown only now' },
      },
    },
    ...errorResponses,
    503: { $ref: 'Error#' },
  },
} as const;

export const listWebhooksSchema = {
  tags: ['webhooks'],
  operationId: 'listWebhooks',
  summary: "The shop's webhook endpoints (never their secrets)",
  security: securedByShopKey,
  params: shopParams,
  response: {
    200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'WebhookEndpoint#' } } } },
    ...errorResponses,
  },
} as const;

export const getWebhookSchema = {
  tags: ['webhooks'],
  operationId: 'getWebhook',
  summary: 'One webhook endpoint: status, cursor, why it is paused',
  security: securedByShopKey,
  params: endpointParams,
  response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
} as const;

export const updateWebhookSchema = {
  tags: ['webhooks'],
  operationId: 'updateWebhook',
  summary: 'Change URL, event types or description; pause, or resume a paused endpoint (status: active)',
  security: securedByShopKey,
  params: endpointParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      url: urlField,
      events: eventsField,
      description: descriptionField,
      status: { type: 'string', enum: ['active', 'paused'] },
    },
  },
  response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses, 503: { $ref: 'Error#' } },
} as const;

export const deleteWebhookSchema = {
  tags: ['webhooks'],
  operationId: 'deleteWebhook',
  summary: 'Remove an endpoint; its delivery run ends',
  security: securedByShopKey,
  params: endpointParams,
  response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses },
} as const;

export const testWebhookSchema = {
  tags: ['webhooks'],
  operationId: 'testWebhook',
  summary: `Send a signed ${WEBHOOK_TEST_EVENT_TYPE} event now and answer with the attempt`,
  security: securedByShopKey,
  params: endpointParams,
  response: { 200: { $ref: 'WebhookAttempt#' }, ...errorResponses, 503: { $ref: 'Error#' } },
} as const;

export const listWebhookAttemptsSchema = {
  tags: ['webhooks'],
  operationId: 'listWebhookAttempts',
  summary: 'Delivery attempts of an endpoint, newest first',
  security: securedByShopKey,
  params: endpointParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: 50 },
      before: rowId,
    },
  },
  response: {
    200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: 'WebhookAttempt#' } } } },
    ...errorResponses,
  },
} as const;

export const redeliverWebhookEventSchema = {
  tags: ['webhooks'],
  operationId: 'redeliverWebhookEvent',
  summary: 'Send one event again now, with its original webhook-id; answers with the attempt',
  security: securedByShopKey,
  params: endpointParams,
  body: {
    type: 'object',
    required: ['seq'],
    additionalProperties: false,
    properties: { seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  },
  response: { 200: { $ref: 'WebhookAttempt#' }, ...errorResponses, 503: { $ref: 'Error#' } },
} as const;

export const replayWebhookEventsSchema = {
  tags: ['webhooks'],
  operationId: 'replayWebhookEvents',
  summary: 'Deliver every event after a cursor again (in order per session), and resume a paused endpoint',
  security: securedByShopKey,
  params: endpointParams,
  body: {
    type: 'object',
    required: ['after'],
    additionalProperties: false,
    properties: { after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
  },
  response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
} as const;
