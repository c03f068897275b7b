/** Request and response schemas of the pools routes: validation, types and the OpenAPI description. */
import { sessionShape } from '../../../contracts/shapes';
import { errorResponses, externalId, pageQuery, securedByShopKey, shopParams } from '../../schemas';

export const listQueueSchema = {
  operationId: 'listQueue',
  tags: ['pools'],
  summary: 'The queue pool (排队池): sessions waiting for a free agent, first come first served',
  security: securedByShopKey,
  params: shopParams,
  querystring: { type: 'object', properties: { limit: pageQuery.limit } },
  response: {
    200: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              position: { type: 'integer' },
              // The fields it shares with the Session record are that record's (queuedAt is never null here).
              sessionId: sessionShape.properties.sessionId,
              buyerId: sessionShape.properties.buyerId,
              topic: sessionShape.properties.topic,
              queuedAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const listOfflineMessagesSchema = {
  operationId: 'listOfflineMessages',
  tags: ['pools'],
  summary: 'The offline-message pool (留言池), newest first',
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['pending', 'assigned', 'skipped'] },
      topic: externalId,
      wantsHuman: { type: 'boolean' },
      ...pageQuery,
    },
  },
  response: {
    200: {
      type: 'object',
      properties: { items: { type: 'array', items: { $ref: 'OfflineMessage#' } }, nextCursor: { type: ['string', 'null'] } },
    },
    ...errorResponses,
  },
} as const;
