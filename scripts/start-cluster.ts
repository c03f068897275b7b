/**
 * `npm run start:cluster`: the system in its production shape on this machine (infra/cluster/stack.ts):
 * the real Temporal server on Postgres as separate service processes, two workers, the relay, two
 * APIs behind HAProxy on API_PORT. Data lives under .data/cluster/, so a restart keeps everything.
 * Ctrl-C stops it; a crashed process is restarted with backoff, one that keeps crashing stops it.
 */
import path from 'node:path';
import { loadConfig } from '../config';
import { clusterPorts, createCluster, type ClusterLaunch } from '../infra/cluster/stack';
import { step } from '../infra/provision/progress';
import { buildConsole } from './build-console';

/** The first of the cluster's own ports (docs/production.md, "What start:cluster runs"). */
const PORT_BASE = Number(process.env.CLUSTER_PORT_BASE || 17300);
if (!Number.isInteger(PORT_BASE) || PORT_BASE < 1024)
  throw new Error(`CLUSTER_PORT_BASE must be a port number, got ${process.env.CLUSTER_PORT_BASE}`);

let cluster: ClusterLaunch | undefined;
let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  step('stopping the cluster…');
  await cluster?.stop().catch((err) => step(`stop: ${String(err)}`));
  step('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  buildConsole();
  const ports = clusterPorts(PORT_BASE, config.api.port);
  cluster = createCluster({
    dataDir: path.join(config.dataDir, 'cluster'),
    secretsDir: config.dataDir,
    cacheDir: config.cacheDir,
    ports,
    namespace: config.temporal.namespace,
    log: step,
  });
  cluster.supervisor.on('giveUp', () => void stop(1));
  // Whatever happens to this process, no child outlives it.
  process.on('exit', () => cluster?.supervisor.killAll());
  const running = await cluster.start();
  const api = running.apiUrl;
  process.stdout.write(
    [
      '',
      `cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  API (HAProxy)  ${api}   → APIs on ${ports.apis.join(', ')}   (docs: ${api}/docs)`,
      `  console        ${api}/console/`,
      `  Temporal       frontend 127.0.0.1:${ports.frontend}; history ${ports.history.map((p) => p.grpc).join(', ')}; matching ${ports.matching.map((p) => p.grpc).join(', ')}`,
      `  Temporal UI    http://localhost:${ports.ui}`,
      `  Postgres       127.0.0.1:${ports.postgres} (databases cs_orchestrator, temporal, temporal_visibility)`,
      `  metrics        ${api}/metrics   workers: ${ports.workerMetrics.map((p) => `:${p}`).join(', ')}   relay: :${ports.relayMetrics}`,
      `  admin token    ${running.adminToken}   (create a shop: npm run shop:create -- <id> <name>)`,
      '  Ctrl-C stops everything; data stays in .data/cluster/',
      '',
    ].join('\n') + '\n',
  );
}

main().catch((err) => {
  step(`start:cluster failed: ${err instanceof Error ? err.stack : String(err)}`);
  void stop(1);
});
