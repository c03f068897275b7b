import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../config';
import { startEmbeddedPostgres, type RunningPostgres } from '../../infra/provision/embedded-postgres';
import { resolveTemporalCli } from '../../infra/provision/temporal-cli';
import { resolveTestServer } from '../../infra/provision/test-server';
import { endLeftovers, RUN_MARKER_VAR } from './leftovers';
import { freePort } from '../../infra/ports';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/create-worker';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresServerUrl: string;
    temporalCliPath: string;
    testServerPath: string;
    workflowBundlePath: string;
  }
}

/**
 * Once per test run: provisions both Temporal servers (cached after the first time) and starts one
 * throwaway Postgres; each test file then creates its own database on it. With TEST_DATABASE_URL
 * set, that server is used instead (its user must be allowed to CREATE DATABASE).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Inherited by the forks and everything they start; teardown ends what is still running.
  const runId = randomUUID();
  process.env[RUN_MARKER_VAR] = runId;
  const config = loadConfig();
  project.provide('testServerPath', resolveTestServer(config.cacheDir));
  project.provide('temporalCliPath', await resolveTemporalCli(config.cacheDir));

  // The workflow code, bundled once for every file's workers (each file bundling its own cost ~2 s of CPU apiece).
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-test-bundle-'));
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  fs.writeFileSync(path.join(bundleDir, 'workflows.js'), bundle.code);
  project.provide('workflowBundlePath', path.join(bundleDir, 'workflows.js'));

  let postgres: RunningPostgres | undefined;
  let dataDir: string | undefined;
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresServerUrl', process.env.TEST_DATABASE_URL);
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-test-pg-'));
    fs.chmodSync(dataDir, 0o777); // initdb runs as the `postgres` OS user when we are root
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: await freePort(), persistent: false });
    project.provide('postgresServerUrl', postgres.url);
  }
  return async () => {
    await postgres?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(bundleDir, { recursive: true, force: true });
    for (const leftover of endLeftovers(runId)) process.stdout.write(`[cs] ended leftover test process ${leftover}\n`);
  };
}
