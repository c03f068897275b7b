/** Service levels (docs/rules.md §10): the report merchants and agents read, and the console plots. */
import type { FastifyInstance } from 'fastify';
import { serviceReport } from '../../../db/repositories/service-facts';
import { getShop } from '../../../db/repositories/shops';
import { localDateOf } from '../../../domain/distribution';
import { reportRange } from '../../../domain/service-levels';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import { serviceReportSchema } from './schemas';

export default async function reportRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);

  app.get(
    '/reports/service',
    { config: { ...AGENT_KEY_ALLOWED, errors: { 400: ['invalid_range'] } }, schema: serviceReportSchema },
    async (req) => {
      const shop = await getShop(app.deps.db, req.params.shopId);
      if (!shop) throw notFound(`shop ${req.params.shopId}`);
      const range = reportRange(req.query, localDateOf(Date.now(), shop.timeZone));
      if ('refusal' in range) throw new ApiError('invalid_range', range.refusal, 400);
      const groupBy = req.query.groupBy ?? 'day';
      const agentId = req.credential?.kind === 'agent' ? (req.credential.agentId ?? '') : undefined;
      const report = await serviceReport(app.deps.db, {
        shopId: shop.id,
        ...range,
        groupBy,
        ...(agentId !== undefined ? { agentId } : {}),
      });
      return { shopId: shop.id, timeZone: shop.timeZone, from: range.fromDay, to: range.toDay, groupBy, ...report };
    },
  );
}
