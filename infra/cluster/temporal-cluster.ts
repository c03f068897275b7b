/**
 * The real Temporal server as the production shape runs it: its two databases on our Postgres,
 * created and migrated with Temporal's own schema tool; one process per service (frontend, two
 * history, two matching, the internal worker) from Temporal's env-driven config template; the
 * namespace and our search attributes registered through the operator API; the Web UI.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { CUSTOM_SEARCH_ATTRIBUTES, indexedValueTypeOf } from '../../domain/temporal-names';
import type { TemporalServerBinaries } from '../provision/temporal-server';
import type { ChildSpec } from './supervisor';

/**
 * Fixed when the databases are first created and never changeable after: the unit history work is
 * split into and spread over the history processes (4 each with two; room for 8 processes).
 */
export const HISTORY_SHARDS = 8;
export const TEMPORAL_DATABASE = 'temporal';
export const TEMPORAL_VISIBILITY_DATABASE = 'temporal_visibility';
/** How long closed runs stay readable (their rows in Postgres are the record after that). */
const RETENTION_SECONDS = 3 * 24 * 3600;

export interface TemporalClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: { grpc: number; membership: number }[];
  matching: { grpc: number; membership: number }[];
  worker: { grpc: number; membership: number };
  ui: number;
}

export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

function sqlTool(bin: TemporalServerBinaries, pg: PostgresEndpoint, database: string, args: string[]): string {
  const r = spawnSync(
    bin.sqlTool,
    ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user, '--pw', pg.password, '--db', database, ...args],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`temporal-sql-tool ${args.join(' ')} on ${database} failed: ${(r.stderr || r.stdout).trim().slice(-600)}`);
  return r.stdout + r.stderr;
}

/** Creates both databases when missing and migrates them to the binary's schema version (idempotent). */
export async function prepareTemporalDatabases(bin: TemporalServerBinaries, pg: PostgresEndpoint, serverUrl: string): Promise<void> {
  const { Client } = await import('pg');
  for (const [database, schema] of [
    [TEMPORAL_DATABASE, 'postgresql/v12/temporal'],
    [TEMPORAL_VISIBILITY_DATABASE, 'postgresql/v12/visibility'],
  ] as const) {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    let exists: boolean;
    try {
      exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
    } finally {
      await admin.end();
    }
    if (!exists) sqlTool(bin, pg, database, ['create-database']);
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    let versioned: boolean;
    try {
      versioned = (await client.query(`SELECT 1 FROM pg_tables WHERE tablename = 'schema_version'`)).rowCount === 1;
    } finally {
      await client.end();
    }
    if (!versioned) sqlTool(bin, pg, database, ['setup-schema', '-v', '0.0']);
    sqlTool(bin, pg, database, ['update-schema', '--schema-name', schema]);
  }
}

/** Dynamic config for every service process (Temporal reads it and re-reads it every minute). */
const DYNAMIC_CONFIG = `# Written by infra/cluster/temporal-cluster.ts on every start.
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: false
`;

/** One ChildSpec per Temporal service process, each with its own ports, all from the shipped template. */
export function temporalServiceSpecs(opts: {
  bin: TemporalServerBinaries;
  pg: PostgresEndpoint;
  ports: TemporalClusterPorts;
  dataDir: string;
  logLevel?: string;
}): ChildSpec[] {
  const { bin, pg, ports } = opts;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const dynamicConfig = path.join(opts.dataDir, 'dynamicconfig.yaml');
  fs.writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
  // Not the whole environment: the template reads many variables (DB, LOG_LEVEL…) that mean other things to us.
  const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CS_')));
  const base: NodeJS.ProcessEnv = {
    ...passed,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DB: 'postgres12',
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    DBNAME: TEMPORAL_DATABASE,
    VISIBILITY_DBNAME: TEMPORAL_VISIBILITY_DATABASE,
    // Six processes share Postgres's connections with the app.
    SQL_MAX_CONNS: '10',
    SQL_MAX_IDLE_CONNS: '10',
    SQL_VIS_MAX_CONNS: '4',
    SQL_VIS_MAX_IDLE_CONNS: '4',
    NUM_HISTORY_SHARDS: String(HISTORY_SHARDS),
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history[0].grpc),
    HISTORY_MEMBERSHIP_PORT: String(ports.history[0].membership),
    MATCHING_GRPC_PORT: String(ports.matching[0].grpc),
    MATCHING_MEMBERSHIP_PORT: String(ports.matching[0].membership),
    WORKER_GRPC_PORT: String(ports.worker.grpc),
    WORKER_MEMBERSHIP_PORT: String(ports.worker.membership),
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
    LOG_LEVEL: opts.logLevel ?? 'warn',
  };
  const spec = (name: string, service: string, env: NodeJS.ProcessEnv): ChildSpec => ({
    name,
    command: bin.server,
    args: ['--config-file', bin.configTemplate, '--allow-no-auth', 'start', '--service', service],
    env: { ...base, ...env },
    cwd: opts.dataDir,
  });
  return [
    ...ports.history.map((p, i) =>
      spec(`temporal-history-${i + 1}`, 'history', { HISTORY_GRPC_PORT: String(p.grpc), HISTORY_MEMBERSHIP_PORT: String(p.membership) }),
    ),
    ...ports.matching.map((p, i) =>
      spec(`temporal-matching-${i + 1}`, 'matching', {
        MATCHING_GRPC_PORT: String(p.grpc),
        MATCHING_MEMBERSHIP_PORT: String(p.membership),
      }),
    ),
    spec('temporal-frontend', 'frontend', {}),
    spec('temporal-worker', 'worker', {}),
  ];
}

/** The Web UI, pointed at the frontend; loopback only. */
export function temporalUiSpec(bin: TemporalServerBinaries, ports: TemporalClusterPorts, dataDir: string): ChildSpec {
  const configDir = path.join(dataDir, 'ui');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(
    path.join(configDir, 'default.yaml'),
    [
      `temporalGrpcAddress: 127.0.0.1:${ports.frontend}`,
      'host: 127.0.0.1',
      `port: ${ports.ui}`,
      'enableUi: true',
      'cors:',
      '  allowOrigins:',
      `    - http://localhost:${ports.ui}`,
      'defaultNamespace: default',
      '',
    ].join('\n'),
  );
  return { name: 'temporal-ui', command: bin.ui, args: ['--root', dataDir, '--config', 'ui', '--env', 'default', 'start'], cwd: dataDir };
}

async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

function alreadyExists(err: unknown): boolean {
  return (err as { code?: number }).code === 6; // gRPC ALREADY_EXISTS
}

/** Registers the namespace and our search attributes unless present; waits until both are usable. */
export async function registerNamespace(address: string, namespace: string): Promise<void> {
  await withConnection(address, async (connection) => {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION_SECONDS * 1000) });
    } catch (err) {
      if (!alreadyExists(err)) throw err;
    }
    const wanted = Object.fromEntries(CUSTOM_SEARCH_ATTRIBUTES.map((a) => [a.name, indexedValueTypeOf(a)]));
    // The namespace reaches every service's cache within seconds; until then the operator API refuses it.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const have = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in (have.customAttributes ?? {}))));
        if (Object.keys(missing).length === 0) break;
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    // Visibility answers for the namespace: runs can be listed by our attributes.
    for (;;) {
      try {
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query: `ShopId = 'probe'` });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  });
}
