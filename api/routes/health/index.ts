import type { FastifyInstance } from 'fastify';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), HEALTH_CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const dependency = { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } } } as const;
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Reachability of Postgres and Temporal; 503 when either is down',
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency } },
          503: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency } },
        },
      },
    },
    async (_req, reply) => {
      const [postgres, temporal] = await Promise.all([
        check(() => app.deps.db.raw('SELECT 1')),
        check(() => app.deps.temporal.client.workflowService.getSystemInfo({})),
      ]);
      const ok = postgres.ok && temporal.ok;
      return reply.code(ok ? 200 : 503).send({ ok, postgres, temporal });
    },
  );
}
