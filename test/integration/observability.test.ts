/**
 * What on-call sees, on the real dev server with the real worker process (worker/main.ts): after a
 * short flow (sessions opened, routed, queued, closed, a distribution run), the worker's and the
 * API's Prometheus endpoints show those counts; the worker's JSON logs of one session carry its
 * ids; both expositions pass `promtool check metrics`; CloseReason and NextDeadline are searchable;
 * /readyz turns 503 once the worker stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import type { FastifyInstance } from 'fastify';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ADMIN_TOKEN, call, createShopViaApi } from '../support/stack';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startDevServer, TEST_WEBHOOKS, uniqueTaskQueue } from '../support/temporal';
import { until } from '../support/wait';
import { freePort } from '../../infra/ports';
import { ensurePromtool, promtoolCheckMetrics } from '../../infra/provision/promtool';
import { loadConfig } from '../../config';

let env: TestWorkflowEnvironment;
let tdb: TestDatabase;
let app: FastifyInstance;
let worker: ChildProcess;
let workerExited: Promise<void>;
const logs: Record<string, unknown>[] = [];
let metricsPort = 0;
const taskQueue = uniqueTaskQueue('obs');

beforeAll(async () => {
  [env, tdb] = await Promise.all([startDevServer(), createTestDatabase()]);
  metricsPort = await freePort();
  worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../worker/main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKER_METRICS_PORT: String(metricsPort),
      WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workerExited = new Promise((r) => worker.once('exit', () => r()));
  let buffer = '';
  worker.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        // the bundler's progress lines are not JSON
      }
    }
  });
  // A worker counts for 20 s after its last poll here (90 s in production): the test waits for the stop to show.
  app = await buildApp({
    db: tdb.db,
    temporal: { client: env.client, taskQueue },
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    webhooks: TEST_WEBHOOKS,
    workerFreshMs: 20_000,
  });
  await until(async () => logs.some((l) => l.msg === 'worker started'), Boolean, 'worker started', 120_000);
});
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await workerExited;
  }
  await app?.close();
  await env?.teardown();
  await tdb?.drop();
});

const scrape = async (url: string) => (await fetch(url)).text();
const value = (text: string, name: string, labels: Record<string, string> = {}): number => {
  const lines = text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'));
  const match = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return match ? Number(match.split(' ').at(-1)) : NaN;
};

describe('observability', () => {
  it('metrics move with a real flow, logs carry the ids, search attributes answer on-call questions, readiness follows the worker', async () => {
    const readyBefore = await until(
      () => call(app, 'GET', '/readyz'),
      (r) => r.status === 200,
      'ready',
      60_000,
    );
    expect(readyBefore.body).toMatchObject({ ok: true, worker: { ok: true } });
    expect((await call(app, 'GET', '/livez')).status).toBe(200);

    const key = await createShopViaApi(app, 'obs', 'UTC');
    const agent = (await call(app, 'POST', '/v1/shops/obs/agents', { key, body: { name: 'A', capacity: 1, status: 'online' } })).body.agent;
    await call(app, 'POST', '/v1/shops/obs/sessions', { key, body: { sessionId: 'o1', buyerId: 'b1', topic: 't', wantsHuman: true } });
    const queued = await call(app, 'POST', '/v1/shops/obs/sessions', {
      key,
      body: { sessionId: 'o2', buyerId: 'b2', topic: 't', wantsHuman: true },
    });
    expect(queued.body.session.status).toBe('queued');
    await call(app, 'POST', '/v1/shops/obs/sessions/o1/close', { key, body: { by: 'agent' } });
    await call(app, 'POST', '/v1/shops/obs/distribution/run-now', { key, body: {} });
    await until(
      () => call(app, 'GET', '/v1/shops/obs/sessions/o2', { key }),
      (r) => r.body.session.agentId === agent.id,
      'o2 drained to the agent',
    );

    const workerMetrics = await until(
      () => scrape(`http://127.0.0.1:${metricsPort}/metrics`),
      (t) =>
        value(t, 'temporal_cs_sessions_closed_total', { reason: 'closed_by_agent' }) >= 1 ||
        value(t, 'cs_sessions_closed_total', { reason: 'closed_by_agent' }) >= 1,
      'worker metrics',
    );
    const prefix = workerMetrics.includes('temporal_cs_sessions_opened_total') ? 'temporal_' : '';
    expect(value(workerMetrics, `${prefix}cs_sessions_opened_total`)).toBeGreaterThanOrEqual(2);
    expect(value(workerMetrics, `${prefix}cs_sessions_routed_total`, { outcome: 'queued' })).toBeGreaterThanOrEqual(1);
    expect(value(workerMetrics, `${prefix}cs_distribution_runs_total`, { trigger: 'manual' })).toBeGreaterThanOrEqual(1);
    expect(workerMetrics).toContain('temporal_workflow_task_execution_latency');
    // o2's wait in the queue, observed by its run and recorded by the worker, labelled in snake_case.
    expect(value(workerMetrics, `${prefix}cs_queue_wait_seconds_count`, { task_queue: taskQueue })).toBe(1);

    const apiMetrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(value(apiMetrics, 'cs_sessions_live', { status: 'active' })).toBe(1);
    expect(value(apiMetrics, 'cs_outbox_rows', { state: 'dead' })).toBe(0);
    expect(
      value(apiMetrics, 'cs_http_request_duration_seconds_count', {
        route: '/v1/shops/:shopId/sessions',
        method: 'POST',
        status_code: '201',
      }),
    ).toBe(2);

    // Both expositions pass Prometheus's own linter (names, suffixes, help and type lines).
    const promtool = ensurePromtool(loadConfig().cacheDir);
    expect(promtoolCheckMetrics(promtool, apiMetrics), 'API /metrics').toEqual([]);
    expect(promtoolCheckMetrics(promtool, workerMetrics), 'worker /metrics').toEqual([]);

    // One session's lines, pulled out by its id, carry the workflow context.
    const ofO1 = logs.filter((l) => l.sessionId === 'o1');
    expect(ofO1.map((l) => l.msg)).toEqual(expect.arrayContaining(['session opened', 'session routed', 'session closed']));
    expect(ofO1.find((l) => l.msg === 'session closed')).toMatchObject({
      shopId: 'obs',
      reason: 'closed_by_agent',
      workflowId: 'conversation:obs:o1',
    });
    await until(
      async () =>
        logs.some((l) => /^distribution run (finished|failed)$/.test(String(l.msg)) && l.shopId === 'obs' && l.trigger === 'manual'),
      Boolean,
      'distribution run logged',
    );

    // On-call questions as visibility queries.
    await until(
      () => env.client.workflow.count(`CloseReason = 'closed_by_agent' AND ShopId = 'obs'`),
      (c) => c.count === 1,
      'CloseReason searchable',
    );
    await until(
      () => env.client.workflow.count(`NextDeadline > '2000-01-01T00:00:00Z' AND ShopId = 'obs'`),
      (c) => c.count >= 1,
      'NextDeadline searchable',
    );

    // The worker stops: readiness says so (a poller counts for 20 s after its last poll here).
    worker.kill('SIGTERM');
    await workerExited;
    const down = await until(
      () => call(app, 'GET', '/readyz'),
      (r) => r.status === 503,
      'not ready without a worker',
      150_000,
    );
    expect(down.body.worker.ok).toBe(false);
    expect((await call(app, 'GET', '/livez')).status).toBe(200);
  }, 300_000);
});
