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
 * worker, on the bench's own Postgres). `--workers N`: that many Temporal workers in the bench process.
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
  client: Client;
  nativeConnection: NativeConnection;
  teardown(): Promise<void>;
}

export interface BenchInfra {
  db: Db;
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
  for (const spec of temporalServiceSpecs({ bin, pg, ports, dataDir: path.join(dir, 'temporal') })) supervisor.start({ ...spec, stdio: process.argv.includes('--verbose') ? 'inherit' : 'ignore' });
  const address = `127.0.0.1:${ports.frontend}`;
  await waitUntil('the Temporal frontend', () => temporalAnswers(address));
  await registerNamespace(address, 'default');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
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
export async function startBenchInfra(opts: { withTemporal: boolean }): Promise<BenchInfra> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
  fs.chmodSync(tmp, 0o777);
  const pgPort = 55000 + Math.floor(Math.random() * 1000);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: pgPort, persistent: false, maxConnections: 300 });
  const db = createDb(await ensureDatabase(pg.url, 'bench'), { max: 30 });
  await migrateLatest(db);
  const env: BenchTemporal | undefined = !opts.withTemporal
    ? undefined
    : SHAPE === 'cluster'
      ? await startBenchCluster(pg.url, pgPort, tmp)
      : await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: await resolveTemporalCli(config.cacheDir) },
          ip: '127.0.0.1',
          searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
          extraArgs: devServerArgs(),
        },
      });
  return {
    db,
    env,
    stop: async () => {
      await env?.teardown();
      await db.destroy();
      await pg.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Task queues of the real worker and of the do-nothing floor (bench/noop-workflows.ts). */
export const BENCH_REAL_QUEUE = 'bench-real';
export const BENCH_NOOP_QUEUE = 'bench-noop';

/** The real worker with its outbox relay, and beside it the floor's do-nothing worker, until stop(). */
export async function startBenchWorkers(infra: BenchInfra): Promise<{ stop(): Promise<void> }> {
  const env = infra.env!;
  const reals = await Promise.all(
    Array.from({ length: WORKERS }, () =>
      createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue: BENCH_REAL_QUEUE, db: infra.db }),
    ),
  );
  const delivery = await startDelivery({ db: infra.db, client: env.client, taskQueue: BENCH_REAL_QUEUE });
  const noop = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: BENCH_NOOP_QUEUE,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./noop-workflows') }),
  });
  const running = [...reals.map((w) => w.run()), noop.run()];
  return {
    stop: async () => {
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
