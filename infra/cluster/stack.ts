/**
 * The production shape on one machine (`npm run start:cluster`, the drill, the short drill test):
 * Postgres; the real Temporal server as separate service processes (two history, two matching);
 * its Web UI; worker processes; the outbox relay in a process of its own; API processes behind
 * HAProxy. Every process is supervised: killed, it comes back with backoff.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { PROJECT_ROOT } from '../../config';
import { createDb } from '../../db/connection';
import { migrateLatest } from '../../db/migrate';
import { newSecretKey } from '../secret-box';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from '../provision/embedded-postgres';
import { resolveTemporalServer } from '../provision/temporal-server';
import { haproxySpec } from './load-balancer';
import { Supervisor, type ChildSpec, type SupervisorOptions } from './supervisor';
import {
  prepareTemporalDatabases,
  registerNamespace,
  temporalServiceSpecs,
  temporalUiSpec,
  type TemporalClusterPorts,
} from './temporal-cluster';

export const APP_DATABASE = 'cs_orchestrator';
const READY_TIMEOUT_MS = 180_000;

export interface ClusterPorts extends TemporalClusterPorts {
  postgres: number;
  apis: number[];
  workerMetrics: number[];
  relayMetrics: number;
  /** The load balancer: what clients call. */
  api: number;
}

/** Every port from one base (the table in docs/production.md, "What start:cluster runs"), the load balancer on `apiPort`. */
export function clusterPorts(base: number, apiPort: number, counts = { history: 2, matching: 2, apis: 2, workers: 2 }): ClusterPorts {
  // Temporal keeps membership ports in a smallint column (cluster_membership.rpc_port).
  if (base + 40 > 32767) throw new Error(`cluster port base ${base} too high: Temporal's membership ports must stay below 32768`);
  const pairs = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ grpc: from + 2 * i, membership: from + 2 * i + 1 }));
  return {
    postgres: base,
    frontend: base + 1,
    frontendHttp: base + 2,
    frontendMembership: base + 3,
    history: pairs(base + 10, counts.history),
    matching: pairs(base + 20, counts.matching),
    worker: { grpc: base + 30, membership: base + 31 },
    ui: base + 40,
    apis: Array.from({ length: counts.apis }, (_, i) => base + 50 + i),
    workerMetrics: Array.from({ length: counts.workers }, (_, i) => base + 60 + i),
    relayMetrics: base + 69,
    api: apiPort,
  };
}

export interface ClusterOptions {
  dataDir: string;
  /** Where the admin token and webhook key are kept (default dataDir); start:cluster shares npm start's. */
  secretsDir?: string;
  cacheDir: string;
  ports: ClusterPorts;
  namespace: string;
  log: (message: string) => void;
  /** Child output: the terminal (start:cluster) or nowhere (tests, the drill). */
  childStdio?: 'inherit' | 'ignore';
  webUi?: boolean;
  supervisor?: Omit<SupervisorOptions, 'log'>;
  /** Extra environment for the app's processes (log level, webhook policy, rate limit…). */
  appEnv?: NodeJS.ProcessEnv;
}

export interface RunningCluster {
  supervisor: Supervisor;
  ports: ClusterPorts;
  apiUrl: string;
  temporalAddress: string;
  databaseUrl: string;
  adminToken: string;
  /** Postgres stopped and started again (same data); the processes on it reconnect on their own. */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
}

export async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/** A secret generated once into the data folder unless the environment gives one. */
export function localSecret(dataDir: string, name: string, fromEnv: string | undefined, make: () => string): string {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, make(), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

export const newAdminToken = (): string => randomBytes(24).toString('base64url');

/** The environment of the app's own processes (worker, relay, API) under both start commands. */
export function appProcessEnv(o: {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  adminToken: string;
  webhookKey: string;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: o.databaseUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_NAMESPACE: o.namespace,
    ADMIN_TOKEN: o.adminToken,
    WEBHOOK_SECRET_KEY: o.webhookKey,
    // Embedded defaults: a receiver on this machine may take webhooks (private ranges stay refused).
    WEBHOOK_ALLOW_LOOPBACK: process.env.WEBHOOK_ALLOW_LOOPBACK ?? 'true',
  };
}

export interface ClusterLaunch {
  supervisor: Supervisor;
  /** Brings everything up; rejects if stop() was called meanwhile. */
  start(): Promise<RunningCluster>;
  /** Stops whatever has started so far, at any moment (Ctrl-C during a first start included). */
  stop(): Promise<void>;
}

export async function launchCluster(opts: ClusterOptions): Promise<RunningCluster> {
  return createCluster(opts).start();
}

export function createCluster(opts: ClusterOptions): ClusterLaunch {
  const { ports, log } = opts;
  const supervisor = new Supervisor({ log, ...opts.supervisor });
  const pgOptions = { dataDir: path.join(opts.dataDir, 'postgres'), port: ports.postgres, maxConnections: 300 };
  let postgres: RunningPostgres | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      await supervisor.stopAll();
      await postgres?.stop();
    })());
  const step = async <T>(work: Promise<T>): Promise<T> => {
    const value = await work;
    if (stopped) throw new Error('cluster start cancelled');
    return value;
  };
  const start = async (): Promise<RunningCluster> => {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    try {
      const bin = await step(resolveTemporalServer(opts.cacheDir));
      log(`starting Postgres on 127.0.0.1:${ports.postgres}`);
      postgres = await step(startEmbeddedPostgres(pgOptions));
      const databaseUrl = await step(ensureDatabase(postgres.url, APP_DATABASE));
      const db = createDb(databaseUrl, { max: 2 });
      const applied = await migrateLatest(db).finally(() => db.destroy());
      log(`app database ready (migrations applied now: ${applied.length ? applied.join(', ') : 'none, already current'})`);
      const pg = { host: '127.0.0.1', port: ports.postgres, user: 'postgres', password: 'postgres' };
      await step(prepareTemporalDatabases(bin, pg, postgres.url));
      log('Temporal databases ready (schema tool: temporal, temporal_visibility)');

      const quiet = opts.childStdio ?? 'inherit';
      const run = (spec: ChildSpec) => supervisor.start({ stdio: quiet, ...spec });
      const temporalDir = path.join(opts.dataDir, 'temporal');
      for (const spec of temporalServiceSpecs({ bin, pg, ports, dataDir: temporalDir })) run(spec);
      const temporalAddress = `127.0.0.1:${ports.frontend}`;
      log(
        `Temporal server: frontend ${temporalAddress}, ${ports.history.length} history, ${ports.matching.length} matching, internal worker`,
      );
      await step(waitUntil('the Temporal frontend', () => temporalAnswers(temporalAddress)));
      await step(registerNamespace(temporalAddress, opts.namespace));
      log(`namespace ${opts.namespace} and its search attributes registered`);
      if (opts.webUi ?? true) run(temporalUiSpec(bin, ports, temporalDir));

      const secrets = opts.secretsDir ?? opts.dataDir;
      const adminToken = localSecret(secrets, 'admin-token', process.env.ADMIN_TOKEN, newAdminToken);
      const webhookKey = localSecret(secrets, 'webhook-key', process.env.WEBHOOK_SECRET_KEY, newSecretKey);
      const appEnv: NodeJS.ProcessEnv = {
        ...appProcessEnv({ databaseUrl, temporalAddress, namespace: opts.namespace, adminToken, webhookKey }),
        ...opts.appEnv,
      };
      const node = (name: string, entry: string, env: NodeJS.ProcessEnv) =>
        run({ name, command: process.execPath, args: ['--import', 'tsx', entry], env: { ...appEnv, ...env }, cwd: PROJECT_ROOT });
      ports.workerMetrics.forEach((port, i) =>
        node(`worker-${i + 1}`, 'worker/main.ts', { WORKER_ROLES: 'workflows', WORKER_METRICS_PORT: String(port) }),
      );
      node('relay', 'worker/main.ts', { WORKER_ROLES: 'relay', WORKER_METRICS_PORT: String(ports.relayMetrics) });
      ports.apis.forEach((port, i) => node(`api-${i + 1}`, 'api/server.ts', { API_HOST: '127.0.0.1', API_PORT: String(port) }));
      run(haproxySpec({ port: ports.api, backends: ports.apis, dataDir: opts.dataDir }));

      const apiUrl = `http://127.0.0.1:${ports.api}`;
      for (const port of ports.apis)
        await step(waitUntil(`API on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok));
      await step(waitUntil('the load balancer', async () => (await fetch(`${apiUrl}/readyz`)).ok));
      return {
        supervisor,
        ports,
        apiUrl,
        temporalAddress,
        databaseUrl,
        adminToken,
        restartPostgres: async () => {
          await postgres!.stop();
          postgres = await startEmbeddedPostgres(pgOptions);
        },
        stop,
      };
    } catch (err) {
      await stop().catch(() => undefined);
      throw err;
    }
  };
  return { supervisor, start, stop };
}
