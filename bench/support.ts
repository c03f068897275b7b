import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { createDb, type Db } from '../db/connection';
import { migrateLatest } from '../db/migrate';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../domain/temporal-names';
import { ensureDatabase, startEmbeddedPostgres } from '../infra/provision/embedded-postgres';
import { devServerArgs, resolveTemporalCli } from '../infra/provision/temporal-cli';

/** One line on the machine, printed with every benchmark's figures. */
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

export interface BenchInfra {
  db: Db;
  /** Present when started with withTemporal. */
  env?: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/** A throwaway embedded Postgres and Temporal dev server, both on loopback. */
export async function startBenchInfra(opts: { withTemporal: boolean }): Promise<BenchInfra> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
  fs.chmodSync(tmp, 0o777);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'pg'),
    port: 55000 + Math.floor(Math.random() * 1000),
    persistent: false,
  });
  const db = createDb(await ensureDatabase(pg.url, 'bench'), { max: 30 });
  await migrateLatest(db);
  const env = opts.withTemporal
    ? await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: await resolveTemporalCli(config.cacheDir) },
          ip: '127.0.0.1',
          searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
          extraArgs: devServerArgs(),
        },
      })
    : undefined;
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
