/**
 * Delivers committed outbox rows to Temporal (see db/repositories/outbox.ts for the states). Runs in
 * every worker process; several relays share the work through SKIP LOCKED leases, and a relay that
 * dies leaves its batch claimable again after the lease. Rows of one workflow go out in order; the
 * rest in parallel, bounded.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import type { PgListener } from '../db/notifications';
import { inOrderPerKey } from '../infra/lanes';
import {
  claimOutbox,
  extendOutboxLease,
  markOutboxDelivered,
  markOutboxFailed,
  OUTBOX_CHANNEL,
  OUTBOX_LEASE_MS,
  type OutboxMessage,
  type OutboxRow,
} from '../db/repositories/outbox';

export interface OutboxRelayOptions {
  batchSize?: number;
  concurrency?: number;
  /** Fallback poll for rows whose backoff ended (new rows arrive by NOTIFY). */
  pollMs?: number;
  log?: Pick<Logger, 'warn' | 'error'>;
  /** How long a claimed batch stays reserved for this relay (kept alive while sending). */
  leaseMs?: number;
  /** Told of each batch: delivered, retried and dead-lettered rows (metrics). */
  onBatch?: (counts: { delivered: number; retried: number; dead: number }) => void;
}

export type OutboxSend = (message: OutboxMessage) => Promise<void>;

/** A send error that retrying cannot fix (the row goes straight to the dead letter). */
export class PermanentDeliveryError extends Error {}

function workflowKey(row: OutboxRow): string {
  const p = row.payload;
  // Messages to the shop run (agent available, left, returned) keep their order among themselves.
  return 'workflowId' in p ? p.workflowId : `shop:${p.shopId}`;
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private nudged = false;
  private unlisten: (() => void) | null = null;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Db,
    private readonly send: OutboxSend,
    private readonly opts: OutboxRelayOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 500;
    this.concurrency = opts.concurrency ?? 64;
    this.pollMs = opts.pollMs ?? 1_000;
  }

  async start(listener: PgListener): Promise<void> {
    this.running = true;
    this.unlisten = await listener.on(OUTBOX_CHANNEL, () => this.nudge());
    this.loop = this.run();
  }

  nudge(): void {
    this.nudged = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.pass();
      } catch (err) {
        this.opts.log?.error({ err }, 'outbox relay pass failed');
      }
      if (claimed >= this.batchSize || !this.running) continue;
      if (this.nudged) {
        this.nudged = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
      this.nudged = false;
    }
  }

  /** Claims one batch and sends it; answers how many rows it claimed. */
  async pass(): Promise<number> {
    const rows = await claimOutbox(this.db, this.batchSize, this.opts.leaseMs);
    if (rows.length === 0) return 0;
    const open = new Set(rows.map((r) => r.id));
    const heartbeat = setInterval(
      () => {
        extendOutboxLease(this.db, [...open]).catch((err) => this.opts.log?.warn({ err }, 'outbox lease extension failed'));
      },
      (this.opts.leaseMs ?? OUTBOX_LEASE_MS) / 3,
    );
    const delivered: number[] = [];
    let retried = 0;
    let dead = 0;
    try {
      await inOrderPerKey(rows, workflowKey, this.concurrency, async (queue) => {
        for (const [i, row] of queue.entries()) {
          try {
            await this.send(row.payload);
            delivered.push(row.id);
            open.delete(row.id);
          } catch (err) {
            const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
            const outcome = await markOutboxFailed(this.db, row, message, err instanceof PermanentDeliveryError);
            if (outcome === 'dead') dead++;
            else retried++;
            this.opts.log?.warn(
              { outboxId: row.id, kind: row.kind, attempts: row.attempts, outcome, err: message },
              'outbox delivery failed',
            );
            // Later rows of this workflow wait for the failed one: release their lease to retry with it.
            for (const later of queue.slice(i + 1)) {
              await markOutboxFailed(
                this.db,
                { id: later.id, attempts: Math.max(0, later.attempts - 1) },
                'waiting for an earlier message of the same workflow',
              );
              retried++;
              open.delete(later.id);
            }
            open.delete(row.id);
            break;
          }
        }
      });
      await markOutboxDelivered(this.db, delivered);
    } finally {
      clearInterval(heartbeat);
    }
    this.opts.onBatch?.({ delivered: delivered.length, retried, dead });
    return rows.length;
  }

  /** Delivers everything due now (tests and scripts that want the effect before going on). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pass();
      total += n;
      if (n === 0) return total;
    }
  }
}
