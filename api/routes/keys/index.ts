import type { FastifyInstance } from 'fastify';
import { getAgent } from '../../../db/repositories/agents';
import { issueApiKeyRecord, listApiKeys, revokeApiKey } from '../../../db/repositories/api-keys';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import { listKeysSchema, issueKeySchema, revokeKeySchema } from './schemas';

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
      schema: listKeysSchema,
    },
    async (req) => ({ items: await listApiKeys(app.deps.db, req.params.shopId, { includeRevoked: req.query.includeRevoked }) }),
  );

  app.post(
    '/keys',
    {
      config: { idempotent: true, errors: { 404: ['not_found'] } },
      schema: issueKeySchema,
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
      schema: revokeKeySchema,
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
