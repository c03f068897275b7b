/**
 * Worker process: polls the task queue for workflow and activity tasks, and sweeps the outbox for
 * signals whose sender crashed after committing. Stateless: run as many as the load needs.
 */
import { loadConfig } from '../config';
import { createDb } from '../db/connection';
import { connectClient, connectWorker } from '../temporal/connection';
import { outboxFlusher } from '../temporal/outbox-sender';
import { createLogger } from '../infra/logger';
import { createWorker } from './create-worker';

/** Outbox rows older than this are assumed orphaned by a crashed sender and are delivered here. */
const OUTBOX_SWEEP_INTERVAL_MS = 10_000;
const OUTBOX_ORPHAN_AGE_MS = 5_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, 'worker');
  if (!config.databaseUrl || !config.temporal.address) {
    throw new Error('worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start sets both for the embedded stack)');
  }
  const db = createDb(config.databaseUrl);
  const client = await connectClient(config.temporal, config.temporal.address);
  const flushOutbox = outboxFlusher(db, client, config.temporal.taskQueue);
  const connection = await connectWorker(config.temporal, config.temporal.address);
  const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, db, flushOutbox });

  const sweep = setInterval(() => {
    flushOutbox({ olderThanMs: OUTBOX_ORPHAN_AGE_MS })
      .then((n) => n > 0 && log.warn({ delivered: n }, 'delivered orphaned outbox messages'))
      .catch((err) => log.error({ err }, 'outbox sweep failed'));
  }, OUTBOX_SWEEP_INTERVAL_MS);

  // Worker.run() resolves after SIGINT/SIGTERM, once in-flight tasks are done.
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  try {
    await worker.run();
  } finally {
    clearInterval(sweep);
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
