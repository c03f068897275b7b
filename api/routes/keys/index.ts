import type { FastifyInstance } from 'fastify';
import { getAgent } from '../../../db/repositories/agents';
import { issueApiKeyRecord, listApiKeys, revokeApiKey } from '../../../db/repositories/api-keys';
import { ApiError, notFound } from '../../errors';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

const keySchema = {
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

/**
 * The shop's API keys, for rotation: issue a new key, move callers to it, revoke the old one.
 * Merchant keys only (agent keys are refused by the auth hook); a revocation takes effect on the
 * next request.
 */
export default async function keyRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '/keys',
    {
      schema: {
        operationId: 'listKeys',
        tags: ['keys'],
        summary: "The shop's API keys (never the keys themselves: only their hashes are stored)",
        security: securedByShopKey,
        params: shopParams,
        querystring: { type: 'object', properties: { includeRevoked: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: keySchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ items: await listApiKeys(app.deps.db, req.params.shopId, { includeRevoked: req.query.includeRevoked }) }),
  );

  app.post(
    '/keys',
    {
      config: { idempotent: true, errors: { 404: ['not_found'] } },
      schema: {
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
      },
    },
    async (req, reply) => {
      const { shopId } = req.params;
      const { agentId, label } = req.body ?? {};
      if (agentId !== undefined && !(await getAgent(app.deps.db, shopId, agentId))) throw notFound(`agent ${agentId}`);
      const issued = await issueApiKeyRecord(app.deps.db, shopId, agentId ? 'agent' : 'shop', agentId ?? null, label);
      return reply.code(201).send(issued);
    },
  );

  app.delete(
    '/keys/:keyId',
    {
      config: { errors: { 409: ['last_merchant_key'] } },
      schema: {
        operationId: 'revokeKey',
        tags: ['keys'],
        summary: 'Revoke a key at once (repeating it is harmless); the last live merchant key cannot be revoked',
        security: securedByShopKey,
        params: { type: 'object', required: ['shopId', 'keyId'], properties: { ...shopParams.properties, keyId: externalId } },
        response: { 200: { type: 'object', properties: { key: keySchema } }, ...errorResponses },
      },
    },
    async (req) => {
      const outcome = await revokeApiKey(app.deps.db, req.params.shopId, req.params.keyId, new Date());
      switch (outcome.kind) {
        case 'not_found':
          throw notFound(`key ${req.params.keyId}`);
        case 'last_merchant_key':
          throw new ApiError('last_merchant_key', 'issue another merchant key before revoking the last one', 409);
        case 'revoked':
          return { key: outcome.key };
      }
    },
  );
}
