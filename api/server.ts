/** API process: one long-lived Postgres pool and Temporal client, graceful close on SIGINT/SIGTERM. */
import { loadConfig } from '../config';
import { createDb } from '../db/connection';
import { connectClient } from '../temporal/connection';
import { webhookDeps } from '../infra/webhook-deps';
import { buildApp } from './app';
import { purgeExpiredIdempotencyKeys } from '../db/repositories/idempotency';
import { IDEMPOTENCY_PURGE_EVERY_MS } from '../domain/limits';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporal.address) {
    throw new Error('the API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start sets both for the embedded stack)');
  }
  const db = createDb(config.databaseUrl, { max: 20 });
  const client = await connectClient(config.temporal, config.temporal.address);
  const app = await buildApp({
    db,
    temporal: { client, taskQueue: config.temporal.taskQueue },
    adminToken: config.api.adminToken,
    logLevel: config.logLevel,
    accessLog: config.accessLog,
    webhooks: webhookDeps(config),
    rateLimitPerMinute: config.api.rateLimitPerMinute,
  });
  // Stored Idempotency-Key answers live a day; any API process may clear older ones.
  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(db, new Date()).then(
      (n) => n > 0 && app.log.info({ purged: n }, 'expired idempotency keys purged'),
      (err: unknown) => app.log.warn({ err }, 'idempotency key purge failed; next round retries'),
    );
  }, IDEMPOTENCY_PURGE_EVERY_MS).unref();
  app.addHook('onClose', async () => {
    clearInterval(purge);
    await client.connection.close();
    await db.destroy();
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing API');
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ host: config.api.host, port: config.api.port });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
