/**
 * The API's Prometheus metrics on /metrics: request counts and latency per route, rate-limited
 * requests, and business gauges read from Postgres at scrape time (live sessions, queue, pool,
 * outbox backlog, webhook endpoints). Counters of what happens in the worker are on the worker's
 * endpoint (WORKER_METRICS_PORT).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { outboxStats } from '../db/repositories/outbox';

/**
 * The process's own figures (CPU, memory, event loop, GC), collected once per process however many
 * apps it builds: each collector leaves a GC observer and an event-loop timer running for good.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // prom-client also serves three gauges named `_total`, a suffix Prometheus reserves for counters
    // (promtool flags them); the same figures stay under nodejs_active_handles / _requests / _resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  const requests = new Histogram({
    name: 'cs_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  const limited = new Counter({
    name: 'cs_http_rate_limited_total',
    help: 'Requests refused with 429 by the per-key rate limit',
    registers: [registry],
  });
  const { db } = app.deps;

  new Gauge({
    name: 'cs_sessions_live',
    help: 'Sessions not closed, by status (open: no human yet; queued; active: an agent holds it; offline: waiting in the pool)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows: { status: string; n: number }[] = await db('sessions')
        .whereNot({ status: 'closed' })
        .groupBy('status')
        .select('status', db.raw('count(*)::int AS n'));
      this.reset();
      for (const status of ['open', 'queued', 'active', 'offline']) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
    },
  });
  new Gauge({
    name: 'cs_queue_oldest_wait_seconds',
    help: 'How long the longest-waiting queued session has waited',
    registers: [registry],
    async collect() {
      const row = await db('sessions').where({ status: 'queued' }).min({ at: 'queued_at' }).first();
      this.set(row?.at ? (Date.now() - new Date(row.at).getTime()) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'cs_offline_pool_pending',
    help: 'Offline messages waiting in the pools',
    registers: [registry],
    async collect() {
      this.set(Number((await db('offline_messages').where({ status: 'pending' }).count({ n: '*' }))[0].n));
    },
  });
  new Gauge({
    name: 'cs_outbox_rows',
    help: 'Outbox rows not delivered: pending (incl. backing off) and dead (dead letter)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const s = await outboxStats(db);
      this.set({ state: 'pending' }, s.pending);
      this.set({ state: 'dead' }, s.dead);
      outboxAge.set((s.oldestPendingAgeMs ?? 0) / 1000);
    },
  });
  const outboxAge = new Gauge({
    name: 'cs_outbox_oldest_pending_seconds',
    help: 'Age of the oldest undelivered outbox row',
    registers: [registry],
  });
  new Gauge({
    name: 'cs_webhook_endpoints',
    help: 'Webhook endpoints by status (paused: failing too long, or paused by the merchant)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows: { status: string; n: number }[] = await db('webhook_endpoints')
        .whereNot({ status: 'deleted' })
        .groupBy('status')
        .select('status', db.raw('count(*)::int AS n'));
      for (const status of ['active', 'paused']) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
    },
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (reply.statusCode === 429) limited.inc();
  });
  return Registry.merge([processMetrics(), registry]);
}
