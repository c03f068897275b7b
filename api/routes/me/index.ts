import type { FastifyInstance } from 'fastify';
import { getAgent } from '../../../db/repositories/agents';
import { getShop } from '../../../db/repositories/shops';
import { authenticateKey } from '../../auth';
import { notFound } from '../../errors';
import { typed } from '../../typed';
import { getMeSchema } from './schemas';

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
      schema: getMeSchema,
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
