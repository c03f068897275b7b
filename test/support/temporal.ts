import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, type WorkflowBundlePath } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Db } from '../../db/connection';
import { CUSTOM_SEARCH_ATTRIBUTES, indexedValueTypeOf } from '../../domain/temporal-names';
import { createWorker } from '../../worker/create-worker';
import { startDelivery, type Delivery } from '../../worker/delivery';
import { SecretBox } from '../../infra/secret-box';
import type { WebhookDeps } from '../../infra/webhook-deps';

/** Webhooks in tests: a fixed key, and loopback allowed so a receiver in the test process works. */
export const TEST_WEBHOOKS: WebhookDeps = {
  box: new SecretBox(Buffer.alloc(32, 7).toString('base64')),
  policy: { allowLoopback: true, allowPrivate: false },
};
import { createTestDatabase, type TestDatabase } from './database';

import { CALM_KEEPALIVE } from './test-server-keepalive';
import { devServerArgs } from '../../infra/provision/temporal-cli';
import { freePort } from '../../infra/ports';

// Worker lifecycle chatter drowns test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

/**
 * The Java test server: timers of hours and days pass in milliseconds. Started here rather than by
 * the SDK, which gives a JVM 5 s to answer and fails the file when a busy machine takes longer; this
 * waits for the server itself (up to 2 min, or until it exits).
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const port = await freePort();
  const server = spawn(inject('testServerPath'), [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 120_000;
  let env: TestWorkflowEnvironment | undefined;
  while (!env) {
    if (gone !== undefined) throw new Error(`the time-skipping test server exited (${gone}) before answering`);
    if (Date.now() > deadline) {
      server.kill('SIGKILL');
      throw new Error('the time-skipping test server did not answer within 2 min');
    }
    env = await connectTimeSkipping(`127.0.0.1:${port}`).catch(async () => {
      await new Promise((r) => setTimeout(r, 200));
      return undefined;
    });
  }
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    await teardown();
    server.kill('SIGKILL');
    await exited;
  };
  // Custom search attributes must exist before a workflow upserts them.
  await env.connection.operatorService
    .addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(CUSTOM_SEARCH_ATTRIBUTES.map((a) => [a.name, indexedValueTypeOf(a)])),
    })
    .catch(() => undefined);
  return env;
}

/**
 * An environment on a running test server with time skipping on: the SDK's own constructor with
 * `supportsTimeSkipping` (its public createFromExistingServer turns skipping off).
 */
async function connectTimeSkipping(address: string): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }).create;
  const env = await create.call(TestWorkflowEnvironment, {
    server: { type: 'existing' },
    address,
    namespace: 'default',
    supportsTimeSkipping: true,
    plugins: [CALM_KEEPALIVE],
  });
  // Connections are lazy: one call proves the server answers.
  await env.connection.workflowService.getSystemInfo({}).catch(async (err: unknown) => {
    await env.teardown();
    throw err;
  });
  return env;
}

/** The real Temporal dev server (the CLI the project provisions), with our search attributes. */
export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: inject('temporalCliPath') },
      ip: '127.0.0.1',
      searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
      extraArgs: devServerArgs(),
    },
  });
}

/** The workflow code the run's global setup bundled once (test/support/global-setup.ts), for every worker. */
export function workflowBundle(): WorkflowBundlePath {
  return { codePath: inject('workflowBundlePath') };
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface RunningWorker {
  taskQueue: string;
  /** The outbox relay running beside the worker, as in the worker process. */
  delivery: Delivery;
  stop(): Promise<void>;
}

/** Runs a real worker (real activities, real Postgres) against `env` until stop(). */
export async function runWorker(env: TestWorkflowEnvironment, db: Db, taskQueue = uniqueTaskQueue()): Promise<RunningWorker> {
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    db,
    webhooks: TEST_WEBHOOKS,
    workflowBundle: workflowBundle(),
  });
  const running = worker.run();
  const delivery = await startDelivery({ db, client: env.client, taskQueue });
  return {
    taskQueue,
    delivery,
    stop: async () => {
      await delivery.stop();
      worker.shutdown();
      await running;
    },
  };
}

export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  tdb: TestDatabase;
  worker: RunningWorker;
  stop(): Promise<void>;
}

/** Time-skipping server + fresh database + a real worker: the setup of every workflow suite. */
export async function startWorkflowHarness(): Promise<WorkflowHarness> {
  const [env, tdb] = await Promise.all([startTimeSkipping(), createTestDatabase()]);
  const worker = await runWorker(env, tdb.db);
  return {
    env,
    tdb,
    worker,
    stop: async () => {
      await worker.stop();
      await env.teardown();
      await tdb.drop();
    },
  };
}

/**
 * A workflow's result, or, past `ms`, a failure naming the run's status and last history events:
 * a stuck run on the test server otherwise shows only as a silent test timeout.
 */
export async function resultOrExplain<T>(env: TestWorkflowEnvironment, workflowId: string, ms = 60_000): Promise<T> {
  const handle = env.client.workflow.getHandle(workflowId);
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void (async () => {
        const description = await handle.describe().catch((err: unknown) => ({ error: String(err) }));
        const history = await handle.fetchHistory().catch(() => null);
        const last = (history?.events ?? []).slice(-8).map((e) => `${e.eventId} ${e.eventType}`);
        reject(
          new Error(
            `no result for ${workflowId} after ${ms} ms: ${JSON.stringify({ status: 'status' in description ? description.status.name : description, last })}`,
          ),
        );
      })();
    }, ms);
  });
  try {
    return (await Promise.race([handle.result(), stuck])) as T;
  } finally {
    clearTimeout(timer);
  }
}
