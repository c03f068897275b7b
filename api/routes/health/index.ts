import type { FastifyInstance } from 'fastify';
import { temporal as temporal_ } from '@temporalio/proto';
import { typed } from '../../typed';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;
/** Workers long-poll about once a minute; one not seen for longer is gone. */
const WORKER_POLL_FRESH_MS = 90_000;

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

export default async function healthRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  const dependency = { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } } } as const;
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
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

  app.get(
    '/livez',
    {
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'The API process is up (no dependency checked)',
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Ready to serve: Postgres, Temporal, and a worker polling the task queue; 503 otherwise',
        description: `A worker counts while it has polled the task queue within the last ${WORKER_POLL_FRESH_MS / 1000} s, so a stopped worker turns this 503 within that time.`,
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency, worker: dependency } },
          503: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency, worker: dependency } },
        },
      },
    },
    async (_req, reply) => {
      const { client, taskQueue } = app.deps.temporal;
      const [postgres, temporal, worker] = await Promise.all([
        check(() => app.deps.db.raw('SELECT 1')),
        check(() => client.workflowService.getSystemInfo({})),
        check(async () => {
          const { pollers } = await client.workflowService.describeTaskQueue({
            namespace: client.options.namespace,
            taskQueue: { name: taskQueue },
            taskQueueType: temporal_.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          });
          const freshMs = app.deps.workerFreshMs ?? WORKER_POLL_FRESH_MS;
          const fresh = (pollers ?? []).filter(
            (p) => p.lastAccessTime && Date.now() - Number(p.lastAccessTime.seconds ?? 0) * 1000 < freshMs,
          );
          if (fresh.length === 0) throw new Error(`no worker has polled task queue ${taskQueue} in the last ${freshMs / 1000} s`);
        }),
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
