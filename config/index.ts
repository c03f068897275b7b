import os from 'node:os';
import path from 'node:path';

/**
 * Process configuration, read from the environment once. Unset values fall back to embedded
 * local defaults; setting DATABASE_URL / TEMPORAL_ADDRESS points the same code at external services.
 */
export interface AppConfig {
  /** Empty → the project starts an embedded Postgres under dataDir. */
  databaseUrl: string | undefined;
  temporal: {
    /** Empty → the start command runs a local Temporal dev server. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    tls: { enabled: boolean; serverName?: string; caPath?: string; certPath?: string; keyPath?: string };
  };
  api: { host: string; port: number; adminToken: string | undefined; rateLimitPerMinute: number | undefined };
  ports: { postgres: number; temporal: number; temporalUi: number };
  webhooks: {
    /** Encrypts signing secrets at rest; webhooks cannot be registered without it. */
    secretKey: string | undefined;
    allowLoopback: boolean;
    allowPrivate: boolean;
  };
  worker: WorkerTuning & { metricsHost: string; metricsPort: number; roles: WorkerRoles };
  dataDir: string;
  cacheDir: string;
  logLevel: string;
  /** ACCESS_LOG=1: one line per API request at info. */
  accessLog: boolean;
}

/**
 * What a worker process runs (WORKER_ROLES, comma-separated): `workflows` polls the task queue,
 * `relay` sends the outbox to Temporal. Both by default; start:cluster runs the relay on its own.
 */
export interface WorkerRoles {
  workflows: boolean;
  relay: boolean;
}

function rolesFromEnv(env: NodeJS.ProcessEnv): WorkerRoles {
  const raw = nonEmpty(env.WORKER_ROLES) ?? 'workflows,relay';
  const roles = raw.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => r !== 'workflows' && r !== 'relay');
  if (unknown.length || roles.length === 0) throw new Error(`WORKER_ROLES must list workflows and/or relay, got ${JSON.stringify(raw)}`);
  return { workflows: roles.includes('workflows'), relay: roles.includes('relay') };
}

/** Worker sizing (measured in docs/operations.md, "Worker sizing"): how many session runs stay cached, how much runs at once. */
export interface WorkerTuning {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** At most maxConcurrentWorkflowTaskExecutions (the SDK refuses more). */
  maxConcurrentWorkflowTaskPolls: number;
  maxConcurrentActivityTaskExecutions: number;
}

/** Every session waiting in the pool keeps a run; cached runs answer their assignment without a replay. */
export const WORKER_TUNING_DEFAULTS: WorkerTuning = {
  maxCachedWorkflows: 10_000,
  maxConcurrentWorkflowTaskExecutions: 100,
  // Half the task slots, as the SDK advises. Against its default of 10 on the 2-core machine: a
  // burst of 1,500 assignment signals handled ≈ 25 % faster; 5,000 the same (CPU-bound there).
  maxConcurrentWorkflowTaskPolls: 50,
  maxConcurrentActivityTaskExecutions: 200,
};

/** Set explicitly, it must fit the task slots; by default it follows them (half, as the SDK advises). */
function workflowTaskPolls(env: NodeJS.ProcessEnv, slots: number): number {
  const fallback = Math.max(2, Math.min(WORKER_TUNING_DEFAULTS.maxConcurrentWorkflowTaskPolls, Math.floor(slots / 2)));
  const polls = countFromEnv(env, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS', fallback);
  if (polls > slots)
    throw new Error(`WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS (${polls}) must not exceed WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${slots})`);
  return polls;
}

function countFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 2) throw new Error(`${name} must be a whole number ≥ 2, got ${JSON.stringify(raw)}`);
  return value;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export const PROJECT_ROOT = path.resolve(__dirname, '..');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const certPath = nonEmpty(env.TEMPORAL_TLS_CERT_PATH);
  const apiKey = nonEmpty(env.TEMPORAL_API_KEY);
  const workflowTaskSlots = countFromEnv(
    env,
    'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    WORKER_TUNING_DEFAULTS.maxConcurrentWorkflowTaskExecutions,
  );
  return {
    databaseUrl: nonEmpty(env.DATABASE_URL),
    temporal: {
      address: nonEmpty(env.TEMPORAL_ADDRESS),
      namespace: nonEmpty(env.TEMPORAL_NAMESPACE) ?? 'default',
      taskQueue: nonEmpty(env.TEMPORAL_TASK_QUEUE) ?? 'customer-service',
      apiKey,
      tls: {
        // An API key (Temporal Cloud) always travels over TLS.
        enabled: env.TEMPORAL_TLS === 'true' || certPath !== undefined || apiKey !== undefined,
        serverName: nonEmpty(env.TEMPORAL_TLS_SERVER_NAME),
        caPath: nonEmpty(env.TEMPORAL_TLS_CA_PATH),
        certPath,
        keyPath: nonEmpty(env.TEMPORAL_TLS_KEY_PATH),
      },
    },
    api: {
      host: nonEmpty(env.API_HOST) ?? '127.0.0.1',
      port: intFromEnv(env, 'API_PORT', 3000),
      adminToken: nonEmpty(env.ADMIN_TOKEN),
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE ? Number(env.RATE_LIMIT_PER_MINUTE) : undefined,
    },
    ports: {
      postgres: intFromEnv(env, 'POSTGRES_PORT', 54329),
      temporal: intFromEnv(env, 'TEMPORAL_PORT', 7233),
      temporalUi: intFromEnv(env, 'TEMPORAL_UI_PORT', 8233),
    },
    webhooks: {
      secretKey: nonEmpty(env.WEBHOOK_SECRET_KEY),
      allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === 'true',
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'true',
    },
    worker: {
      maxCachedWorkflows: countFromEnv(env, 'WORKER_MAX_CACHED_WORKFLOWS', WORKER_TUNING_DEFAULTS.maxCachedWorkflows),
      maxConcurrentWorkflowTaskExecutions: workflowTaskSlots,
      maxConcurrentWorkflowTaskPolls: workflowTaskPolls(env, workflowTaskSlots),
      maxConcurrentActivityTaskExecutions: countFromEnv(
        env,
        'WORKER_MAX_CONCURRENT_ACTIVITIES',
        WORKER_TUNING_DEFAULTS.maxConcurrentActivityTaskExecutions,
      ),
      metricsHost: nonEmpty(env.WORKER_METRICS_HOST) ?? '127.0.0.1',
      metricsPort: intFromEnv(env, 'WORKER_METRICS_PORT', 9464),
      roles: rolesFromEnv(env),
    },
    dataDir: path.resolve(nonEmpty(env.DATA_DIR) ?? path.join(PROJECT_ROOT, '.data')),
    cacheDir: path.resolve(nonEmpty(env.CS_CACHE_DIR) ?? path.join(os.homedir(), '.cache', 'cs-orchestrator')),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    accessLog: env.ACCESS_LOG === '1' || env.ACCESS_LOG === 'true',
  };
}
