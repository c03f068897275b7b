import type { FastifyInstance, InjectOptions } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildApp } from '../../api/app';
import { createTestDatabase, type TestDatabase } from './database';
import { runWorker, startDevServer, TEST_WEBHOOKS, type RunningWorker } from './temporal';

export const ADMIN_TOKEN = 'test-admin-token';

/** The real thing, in one process: Temporal dev server, Postgres, a worker and the HTTP app. */
export interface Stack {
  env: TestWorkflowEnvironment;
  tdb: TestDatabase;
  worker: RunningWorker;
  app: FastifyInstance;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const [env, tdb] = await Promise.all([startDevServer(), createTestDatabase()]);
  const worker = await runWorker(env, tdb.db);
  const app = await buildApp({
    db: tdb.db,
    temporal: { client: env.client, taskQueue: worker.taskQueue },
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    webhooks: TEST_WEBHOOKS,
  });
  return {
    env,
    tdb,
    worker,
    app,
    stop: async () => {
      await app.close();
      await worker.stop();
      await env.teardown();
      await tdb.drop();
    },
  };
}

/** `inject` with a bearer key and JSON body; returns status and parsed body. */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  opts: { key?: string; body?: unknown } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await app.inject({
    method,
    url,
    headers: opts.key ? { authorization: `Bearer ${opts.key}` } : {},
    ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}

/** Creates a shop through the admin API (which also starts its shop workflow). */
export async function createShopViaApi(app: FastifyInstance, id: string, timeZone?: string): Promise<string> {
  const res = await call(app, 'POST', '/v1/admin/shops', {
    key: ADMIN_TOKEN,
    body: { id, name: `Shop ${id}`, ...(timeZone ? { timeZone } : {}) },
  });
  if (res.status !== 201) throw new Error(`shop ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.apiKey;
}

/** Creates an agent through the merchant API; answers its id and its own key (shown once). */
export async function createAgentViaApi(
  app: FastifyInstance,
  shopId: string,
  key: string,
  body: object,
): Promise<{ id: string; apiKey: string }> {
  const res = await call(app, 'POST', `/v1/shops/${shopId}/agents`, { key, body });
  if (res.status !== 201) throw new Error(`agent in ${shopId}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.agent.id, apiKey: res.body.apiKey };
}
