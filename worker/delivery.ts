/**
 * What a worker process runs beside the Temporal worker: the outbox relay (Postgres → Temporal),
 * fed by one shared LISTEN connection.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import { PgListener } from '../db/notifications';
import { OutboxRelay, type OutboxRelayOptions } from '../temporal/outbox-relay';
import { outboxSender } from '../temporal/outbox-sender';
import { workerMetrics } from '../infra/worker-metrics';

export interface Delivery {
  relay: OutboxRelay;
  listener: PgListener;
  stop(): Promise<void>;
}

export async function startDelivery(opts: {
  db: Db;
  client: Client;
  taskQueue: string;
  listener?: PgListener;
  log?: Pick<Logger, 'warn' | 'error'>;
  relay?: OutboxRelayOptions;
}): Promise<Delivery> {
  const listener = opts.listener ?? PgListener.forDb(opts.db);
  const relay = new OutboxRelay(opts.db, outboxSender(opts.client, opts.taskQueue), {
    log: opts.log,
    onBatch: ({ delivered, retried, dead }) => {
      const m = workerMetrics();
      m.outboxDelivered.add(delivered);
      m.outboxRetried.add(retried);
      m.outboxDeadLettered.add(dead);
    },
    ...opts.relay,
  });
  await relay.start(listener);
  return {
    relay,
    listener,
    stop: async () => {
      await relay.stop();
      if (!opts.listener) await listener.close();
    },
  };
}
