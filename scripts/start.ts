/**
 * `npm start`: the whole system on embedded defaults. Starts (or reuses) Postgres and the Temporal
 * dev server with its Web UI, migrates, then runs the worker and the API as supervised child
 * processes (restarted with backoff when one crashes) and stops everything on Ctrl-C. Data lives under .data/, so a second start keeps sessions and runs.
 * With DATABASE_URL / TEMPORAL_ADDRESS set, it uses those instead of starting its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../config';
import { createDb } from '../db/connection';
import { migrateLatest } from '../db/migrate';
import { CUSTOM_SEARCH_ATTRIBUTES, searchAttributeTypeName } from '../domain/temporal-names';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from '../infra/provision/embedded-postgres';
import { step } from '../infra/provision/progress';
import { buildConsole } from './build-console';
import { Supervisor } from '../infra/cluster/supervisor';
import { appProcessEnv, localSecret, newAdminToken, temporalAnswers, waitUntil } from '../infra/cluster/stack';
import { newSecretKey } from '../infra/secret-box';
import { devServerArgs, resolveTemporalCli } from '../infra/provision/temporal-cli';

const DATABASE_NAME = 'cs_orchestrator';
const READY_TIMEOUT_MS = 120_000;

let postgres: RunningPostgres | undefined;
// A child that crashes is restarted with backoff; one that keeps crashing stops the stack.
const supervisor = new Supervisor({ log: step });
supervisor.on('giveUp', () => void stopAll(1));
process.on('exit', () => supervisor.killAll());

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void {
  supervisor.start({ name, command, args, env, cwd: PROJECT_ROOT });
}

let stopping = false;
async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  step('stopping…');
  // Reverse start order: API and worker first, then Temporal, then Postgres.
  await supervisor.stopAll();
  if (postgres) await postgres.stop().catch((err) => step(`postgres stop: ${String(err)}`));
  step('stopped');
  process.exit(exitCode);
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  fs.mkdirSync(config.dataDir, { recursive: true });
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    step(`starting embedded Postgres on 127.0.0.1:${config.ports.postgres}`);
    postgres = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'postgres'), port: config.ports.postgres });
    databaseUrl = await ensureDatabase(postgres.url, DATABASE_NAME);
  }
  buildConsole();
  const db = createDb(databaseUrl);
  const applied = await migrateLatest(db);
  step(`database ready (migrations applied now: ${applied.length ? applied.join(', ') : 'none, already current'})`);
  await db.destroy();

  let temporalAddress = config.temporal.address;
  if (!temporalAddress) {
    const cli = await resolveTemporalCli(config.cacheDir);
    temporalAddress = `127.0.0.1:${config.ports.temporal}`;
    step(`starting Temporal dev server (${cli}) on ${temporalAddress}, Web UI on ${config.ports.temporalUi}`);
    startChild(
      'temporal',
      cli,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(config.ports.temporal),
        '--ui-port',
        String(config.ports.temporalUi),
        '--namespace',
        config.temporal.namespace,
        ...devServerArgs({ dbFile: path.join(config.dataDir, 'temporal.db') }),
        '--log-level',
        'warn',
        ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((attr) => ['--search-attribute', `${attr.name}=${searchAttributeTypeName(attr)}`]),
      ],
      process.env,
    );
    await waitUntil('Temporal', () => temporalAnswers(temporalAddress!), READY_TIMEOUT_MS);
  }

  const token = localSecret(config.dataDir, 'admin-token', config.api.adminToken, newAdminToken);
  const webhookKey = localSecret(config.dataDir, 'webhook-key', config.webhooks.secretKey, newSecretKey);
  const env = appProcessEnv({ databaseUrl, temporalAddress, namespace: config.temporal.namespace, adminToken: token, webhookKey });
  startChild('worker', process.execPath, ['--import', 'tsx', 'worker/main.ts'], env);
  startChild('api', process.execPath, ['--import', 'tsx', 'api/server.ts'], env);
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  await waitUntil('API', async () => (await fetch(`${apiUrl}/livez`)).ok, READY_TIMEOUT_MS);
  step('API up; waiting until ready (Postgres, Temporal and the worker polling)…');
  await waitUntil('readiness', async () => (await fetch(`${apiUrl}/readyz`)).ok, READY_TIMEOUT_MS);

  const lines = [
    '',
    `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  console        ${apiUrl}/console/   (sign in with a merchant or agent key)`,
    `  API            ${apiUrl}   (docs: ${apiUrl}/docs, OpenAPI: ${apiUrl}/openapi.json)`,
    `  health         ${apiUrl}/readyz   (live: /livez)`,
    `  metrics        ${apiUrl}/metrics   worker: http://${config.worker.metricsHost}:${config.worker.metricsPort}/metrics`,
    config.temporal.address ? `  Temporal       ${temporalAddress}` : `  Temporal UI    http://localhost:${config.ports.temporalUi}`,
    `  admin token    ${token}   (create a shop and its merchant key: npm run shop:create -- <id> <name>)`,
    '  Ctrl-C stops everything; data stays in .data/',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  step(`start failed: ${err instanceof Error ? err.stack : String(err)}`);
  void stopAll(1);
});
