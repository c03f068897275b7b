import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app';
import { startDelivery } from '../worker/delivery';
import { createWorker } from '../worker/create-worker';
import { loadConfig } from '../config';
import { createDb, type Db } from '../db/connection';
import { migrateLatest } from '../db/migrate';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../domain/temporal-names';
import { ensureDatabase, startEmbeddedPostgres } from '../infra/provision/embedded-postgres';
import { devServerArgs, resolveTemporalCli } from '../infra/provision/temporal-cli';
import { step } from '../infra/provision/progress';
import { resolveTemporalServer, TEMPORAL_SERVER_VERSION } from '../infra/provision/temporal-server';
import { clusterPorts, temporalAnswers, waitUntil } from '../infra/cluster/stack';
import { Supervisor } from '../infra/cluster/supervisor';
import { freePort } from '../infra/ports';
import { HISTORY_SHARDS, prepareTemporalDatabases, registerNamespace, temporalServiceSpecs } from '../infra/cluster/temporal-cluster';

/** One line on the machine, printed with every benchmark's figures. */
/** A numeric `--name N` flag of the benchmark's command line, or `fallback`. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A word-valued `--name value` flag, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? String(process.argv[i + 1]) : fallback;
}

/**
 * Which Temporal the benchmark runs on (`--shape dev|cluster`): the CLI's dev server (one process,
 * SQLite), or the real server as start:cluster runs it (frontend, 2 history, 2 matching, internal
 * worker, on the bench's own Postgres). `--workers N`: the bench's own worker and N − 1 worker processes.
 */
export const SHAPE = flag('shape', 'dev') as 'dev' | 'cluster';
export const WORKERS = arg('workers', 1);
if (SHAPE !== 'dev' && SHAPE !== 'cluster') throw new Error('--shape is dev or cluster');

export function shapeLine(): string {
  return SHAPE === 'dev'
    ? `Temporal dev server (one process, SQLite), ${WORKERS} worker${WORKERS > 1 ? 's' : ''}`
    : `real Temporal server ${TEMPORAL_SERVER_VERSION} on Postgres (${HISTORY_SHARDS} shards; frontend, 2 history, 2 matching), ${WORKERS} worker${WORKERS > 1 ? 's' : ''}`;
}

export function machineLine(): string {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  return `machine: ${cpus.length} × ${cpus[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}, commit ${commit}`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `tasks` with at most `concurrency` in flight; returns each task's latency in ms. */
export async function runLimited(tasks: (() => Promise<void>)[], concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      const t0 = performance.now();
      await task();
      latencies.push(performance.now() - t0);
    }
  });
  await Promise.all(lanes);
  return latencies.sort((a, b) => a - b);
}

export interface BenchTemporal {
  address: string;
  client: Client;
  nativeConnection: NativeConnection;
  teardown(): Promise<void>;
}

export interface BenchInfra {
  db: Db;
  /** The bench Postgres's maintenance database (superuser). */
  serverUrl: string;
  databaseUrl: string;
  /** Present when started with withTemporal. */
  env?: BenchTemporal;
  stop(): Promise<void>;
}

/** The real server's service processes on the bench's Postgres (the cluster's layout, without the app). */
async function startBenchCluster(pgUrl: string, pgPort: number, dir: string): Promise<BenchTemporal> {
  const config = loadConfig();
  const bin = await resolveTemporalServer(config.cacheDir);
  const pg = { host: '127.0.0.1', port: pgPort, user: 'postgres', password: 'postgres' };
  await prepareTemporalDatabases(bin, pg, pgUrl);
  const ports = clusterPorts(27300, 0);
  const supervisor = new Supervisor({ log: step });
  for (const spec of temporalServiceSpecs({ bin, pg, ports, dataDir: path.join(dir, 'temporal') }))
    supervisor.start({ ...spec, stdio: process.argv.includes('--verbose') ? 'inherit' : 'ignore' });
  const address = `127.0.0.1:${ports.frontend}`;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  try {
    await waitUntil('the Temporal frontend', () => temporalAnswers(address));
    await registerNamespace(address, 'default');
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
  } catch (err) {
    await supervisor.stopAll();
    throw err;
  }
  return {
    address,
    client: new Client({ connection }),
    nativeConnection,
    teardown: async () => {
      await nativeConnection.close();
      await connection.close();
      await supervisor.stopAll();
    },
  };
}

/** A throwaway embedded Postgres and Temporal dev server, both on loopback. */
export async function startBenchInfra(opts: { withTemporal: boolean; postgresSettings?: string[] }): Promise<BenchInfra> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
  fs.chmodSync(tmp, 0o777);
  const pgPort = 55000 + Math.floor(Math.random() * 1000);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'pg'),
    port: pgPort,
    persistent: false,
    maxConnections: 300,
    settings: opts.postgresSettings,
  });
  const databaseUrl = await ensureDatabase(pg.url, 'bench');
  const db = createDb(databaseUrl, { max: 30 });
  let env: BenchTemporal | undefined;
  try {
    await migrateLatest(db);
    if (opts.withTemporal && SHAPE === 'cluster') env = await startBenchCluster(pg.url, pgPort, tmp);
    else if (opts.withTemporal) {
      const port = await freePort();
      const dev = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: await resolveTemporalCli(config.cacheDir) },
          ip: '127.0.0.1',
          port,
          searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
          extraArgs: devServerArgs(),
        },
      });
      env = { address: `127.0.0.1:${port}`, client: dev.client, nativeConnection: dev.nativeConnection, teardown: () => dev.teardown() };
    }
  } catch (err) {
    // Nothing may outlive a benchmark that could not start.
    await db.destroy();
    await pg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return {
    db,
    serverUrl: pg.url,
    databaseUrl,
    env,
    stop: async () => {
      await env?.teardown();
      await db.destroy();
      await pg.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Workers beyond the bench's own (`--workers N` starts N − 1): `worker/main.ts` processes on the
 * real task queue, polling workflows only (the relay stays in the bench). The SDK allows one worker
 * per task queue in a process, and a second process is what production adds anyway.
 */
export async function startExtraWorkers(infra: BenchInfra, env: NodeJS.ProcessEnv = {}): Promise<{ stop(): Promise<void> }> {
  const supervisor = new Supervisor({ log: step });
  for (let i = 1; i < WORKERS; i += 1) {
    supervisor.start({
      name: `bench-worker-${i + 1}`,
      command: process.execPath,
      args: ['--import', 'tsx', 'worker/main.ts'],
      cwd: path.resolve(__dirname, '..'),
      stdio: 'inherit',
      env: {
        ...process.env,
        DATABASE_URL: infra.databaseUrl,
        TEMPORAL_ADDRESS: infra.env!.address,
        TEMPORAL_TASK_QUEUE: BENCH_REAL_QUEUE,
        WORKER_ROLES: 'workflows',
        WORKER_METRICS_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
  }
  // Polling before the load starts, like the bench's own worker.
  if (WORKERS > 1) {
    await waitUntil('the extra workers polling', async () => {
      if (supervisor.children.some((c) => c.restarts > 0)) throw new Error('an extra worker crashed at start');
      const { pollers } = await infra.env!.client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: BENCH_REAL_QUEUE },
        taskQueueType: 1,
      });
      return new Set((pollers ?? []).map((p) => p.identity)).size >= WORKERS;
    }).catch(async (err) => {
      await supervisor.stopAll();
      throw err;
    });
  }
  return { stop: () => supervisor.stopAll() };
}

/** Task queues of the real worker and of the do-nothing floor (bench/noop-workflows.ts). */
export const BENCH_REAL_QUEUE = 'bench-real';
export const BENCH_NOOP_QUEUE = 'bench-noop';

/** The real worker with its outbox relay, and beside it the floor's do-nothing worker, until stop(). */
export async function startBenchWorkers(infra: BenchInfra): Promise<{ stop(): Promise<void> }> {
  const env = infra.env!;
  const reals = [await createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue: BENCH_REAL_QUEUE, db: infra.db })];
  const delivery = await startDelivery({ db: infra.db, client: env.client, taskQueue: BENCH_REAL_QUEUE });
  const noop = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: BENCH_NOOP_QUEUE,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./noop-workflows') }),
  });
  const running = [...reals.map((w) => w.run()), noop.run()];
  const extra = await startExtraWorkers(infra);
  return {
    stop: async () => {
      await extra.stop();
      await delivery.stop();
      for (const w of reals) w.shutdown();
      noop.shutdown();
      await Promise.all(running);
    },
  };
}

/** The HTTP API on loopback (no rate limit) for `taskQueue`, and its shops' base URL. */
export async function startBenchApi(db: Db, client: Client, taskQueue: string): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp({ db, temporal: { client, taskQueue }, adminToken: undefined, logLevel: 'silent', rateLimitPerMinute: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/shops` };
}
