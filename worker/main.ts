/**
 * Worker process: polls the task queue for workflow and activity tasks, and relays the outbox to
 * Temporal (WORKER_ROLES picks one or both). Stateless: run as many as the load needs.
 */
import { loadConfig } from '../config';
import { createDb } from '../db/connection';
import { connectClient, connectWorker } from '../temporal/connection';
import { createLogger } from '../infra/logger';
import { PgListener } from '../db/notifications';
import { webhookDeps } from '../infra/webhook-deps';
import { createWorker } from './create-worker';
import { installWorkerRuntime } from '../infra/worker-runtime';
import { startDelivery } from './delivery';

async function main(): Promise<void> {
  const config = loadConfig();
  // Heard from the first moment: a signal during start-up must still stop a relay-only process.
  const stopRequested = new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve())));
  const log = createLogger(config, 'worker');
  installWorkerRuntime(log, { host: config.worker.metricsHost, port: config.worker.metricsPort });
  if (!config.databaseUrl || !config.temporal.address) {
    throw new Error('worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start sets both for the embedded stack)');
  }
  const db = createDb(config.databaseUrl);
  const client = await connectClient(config.temporal, config.temporal.address);
  const connection = await connectWorker(config.temporal, config.temporal.address);
  const listener = PgListener.forDb(db);
  const webhooks = webhookDeps(config);
  if (!webhooks) log.warn('WEBHOOK_SECRET_KEY is not set: webhook deliveries will fail until it is');
  const { roles } = config.worker;
  const worker = roles.workflows
    ? await createWorker({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        db,
        listener,
        webhooks,
        tuning: {
          maxCachedWorkflows: config.worker.maxCachedWorkflows,
          maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTaskExecutions,
          maxConcurrentWorkflowTaskPolls: config.worker.maxConcurrentWorkflowTaskPolls,
          maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivityTaskExecutions,
        },
      })
    : undefined;
  const delivery = roles.relay ? await startDelivery({ db, client, taskQueue: config.temporal.taskQueue, log, listener }) : undefined;

  log.info(
    {
      roles: Object.keys(roles).filter((r) => roles[r as keyof typeof roles]),
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      metrics: `http://${config.worker.metricsHost}:${config.worker.metricsPort}/metrics`,
    },
    'worker started',
  );
  try {
    // Worker.run() resolves after SIGINT/SIGTERM, once in-flight tasks are done; a relay-only process waits for the signal.
    if (worker) await worker.run();
    else await stopRequested;
  } finally {
    await delivery?.stop();
    await listener.close();
    await connection.close();
    await client.connection.close();
    await db.destroy();
    log.info('worker stopped');
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
