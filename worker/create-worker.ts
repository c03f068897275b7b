import fs from 'node:fs';
import path from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions as WorkerCreateOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { WorkerTuning } from '../config';
import { serviceMetricsSinks } from '../infra/worker-metrics';

/** The workflows entry file: .ts when run from source (tsx, vitest), .js from a compiled build. */
export const WORKFLOWS_PATH = ['index.ts', 'index.js']
  .map((file) => path.join(__dirname, '..', 'workflows', file))
  .find((file) => fs.existsSync(file))!;

export interface WorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A pre-built bundle (tests build one per run and reuse it); else the worker bundles workflows/. */
  workflowBundle?: WorkflowBundleOption;
  /** Extra workflow interceptor modules and sinks (the benchmark's probe). */
  workflowInterceptorModules?: string[];
  sinks?: WorkerCreateOptions['sinks'];
  /** Cache and concurrency; the SDK's defaults when absent. */
  tuning?: WorkerTuning;
  /** The activities the worker runs, made from the real ones (a test holds some at a gate); the real ones when absent. */
  activities?: (real: Activities) => Activities;
}

type Activities = ReturnType<typeof createActivities>;

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(opts.workflowInterceptorModules ? { interceptors: { workflowModules: opts.workflowInterceptorModules } } : {}),
    sinks: { ...serviceMetricsSinks(), ...opts.sinks },
    ...(opts.tuning ?? {}),
    activities: (opts.activities ?? ((real) => real))(createActivities({ db: opts.db, listener: opts.listener, webhooks: opts.webhooks })),
  });
}
