/** Response schema of the me route: the OpenAPI description. */
import { errorResponses, securedByShopKey } from '../../schemas';

export const getMeSchema = {
  tags: ['keys'],
  operationId: 'getMe',
  summary: 'The shop (and agent) this API key acts for',
  security: securedByShopKey,
  response: {
    200: {
      type: 'object',
      required: ['shopId', 'shopName', 'timeZone', 'kind', 'keyId', 'label', 'agent'],
      properties: {
        shopId: { type: 'string' },
        shopName: { type: 'string' },
        timeZone: { type: 'string' },
        kind: { type: 'string', enum: ['shop', 'agent'], description: "shop: the merchant's key; agent: one agent's own key" },
        keyId: { type: 'string' },
        label: { type: ['string', 'null'] },
        agent: {
          type: ['object', 'null'],
          properties: { agentId: { type: 'string' }, name: { type: 'string' } },
        },
      },
    },
    ...errorResponses,
  },
} as const;
