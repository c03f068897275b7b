import type { FastifyInstance } from 'fastify';
import { getAgent } from '../../../db/repositories/agents';
import { getShop } from '../../../db/repositories/shops';
import { authenticateKey } from '../../auth';
import { notFound } from '../../errors';
import { errorResponses, securedByShopKey } from '../../schemas';
import { typed } from '../../typed';

/**
 * Who a key is: the console signs in with a key alone and learns from here which shop it reaches
 * and whether it is the merchant's or an agent's.
 */
export default async function meRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.addHook('onRequest', authenticateKey);
  app.get(
    '/me',
    {
      config: { errors: { 404: ['not_found'] } },
      schema: {
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
      },
    },
    async (req) => {
      const credential = req.credential!;
      const shop = await getShop(app.deps.db, credential.shopId);
      if (!shop) throw notFound(`shop ${credential.shopId}`);
      const agent = credential.agentId ? await getAgent(app.deps.db, credential.shopId, credential.agentId) : null;
      return {
        shopId: shop.id,
        shopName: shop.name,
        timeZone: shop.timeZone,
        kind: credential.kind,
        keyId: credential.keyId,
        label: credential.label,
        agent: agent ? { agentId: agent.id, name: agent.name } : null,
      };
    },
  );
}
