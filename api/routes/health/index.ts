import type { FastifyInstance } from 'fastify';
import { typed } from '../../typed';
import { checkPostgres, checkTemporal, checkWorker, WORKER_POLL_FRESH_MS } from './checks';
import { getHealthSchema, getLivenessSchema, getReadinessSchema } from './schemas';

export default async function healthRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '/healthz',
    {
      schema: getHealthSchema,
    },
    async (_req, reply) => {
      const [postgres, temporal] = await Promise.all([checkPostgres(app.deps.db), checkTemporal(app.deps.temporal.client)]);
      const ok = postgres.ok && temporal.ok;
      return reply.code(ok ? 200 : 503).send({ ok, postgres, temporal });
    },
  );

  app.get(
    '/livez',
    {
      schema: getLivenessSchema,
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      schema: getReadinessSchema,
    },
    async (_req, reply) => {
      const { client, taskQueue } = app.deps.temporal;
      const [postgres, temporal, worker] = await Promise.all([
        checkPostgres(app.deps.db),
        checkTemporal(client),
        checkWorker(client, taskQueue, app.deps.workerFreshMs ?? WORKER_POLL_FRESH_MS),
      ]);
      const ok = postgres.ok && temporal.ok && worker.ok;
      return reply.code(ok ? 200 : 503).send({ ok, postgres, temporal, worker });
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const registry = app.metricsRegistry;
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}
