/**
 * One LISTEN connection per process, shared by everything that waits for Postgres NOTIFY: the
 * outbox relay, event streams (SSE) and webhook delivery. Reconnects on its own; a missed notice
 * costs only latency, since every waiter also polls on a slow timer.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Db } from './connection';

const RECONNECT_DELAY_MS = 1_000;

export class PgListener {
  private client: pg.Client | null = null;
  private readonly emitter = new EventEmitter();
  private readonly channels = new Set<string>();
  private closed = false;
  private connecting: Promise<void> | null = null;

  constructor(private readonly connection: string | pg.ClientConfig) {
    this.emitter.setMaxListeners(0);
  }

  /** Listens on the same server and database as `db` (knex keeps its parsed connection settings). */
  static forDb(db: Db): PgListener {
    return new PgListener(db.client.connectionSettings as pg.ClientConfig);
  }

  /** Calls `fn(payload)` on every NOTIFY on `channel`; returns the unsubscribe function. */
  async on(channel: string, fn: (payload: string) => void): Promise<() => void> {
    this.emitter.on(channel, fn);
    await this.subscribe(channel);
    return () => this.emitter.off(channel, fn);
  }

  /** LISTENs on `channel` (once per connection); answers whether this call started listening. */
  private async subscribe(channel: string): Promise<boolean> {
    if (this.channels.has(channel)) return false;
    this.channels.add(channel);
    await this.ensureConnected();
    await this.client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    return true;
  }

  /**
   * Resolves at the next NOTIFY on `channel` whose payload passes `filter`, or after `ms`. The first
   * wait on a channel resolves as soon as it listens: the caller looks again, so nothing committed
   * before the LISTEN is missed.
   */
  async wait(channel: string, ms: number, filter: (payload: string) => boolean = () => true, signal?: AbortSignal): Promise<void> {
    if (await this.subscribe(channel)) return;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(channel, onNotice);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onNotice = (payload: string) => filter(payload) && done();
      const timer = setTimeout(done, ms);
      this.emitter.on(channel, onNotice);
      signal?.addEventListener('abort', done);
    });
  }

  private ensureConnected(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(typeof this.connection === 'string' ? { connectionString: this.connection } : this.connection);
    client.on('notification', (n) => this.emitter.emit(n.channel, n.payload ?? ''));
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.ensureConnected().catch(() => undefined), RECONNECT_DELAY_MS).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.client = client;
      // Anything may have been missed while disconnected: wake every waiter once.
      for (const channel of this.channels) this.emitter.emit(channel, '');
    } catch {
      await client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.ensureConnected().catch(() => undefined), RECONNECT_DELAY_MS).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
