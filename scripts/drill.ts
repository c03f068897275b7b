/**
 * `npm run drill [-- --minutes 4 --buyers 6 --pool 1000]`: starts its own production-shape cluster
 * in a fresh folder, runs the mixed load, kills one worker, one API, one history process and the
 * relay with SIGKILL and restarts Postgres, then prints the checks. Exit 1 if any check fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { arg } from '../bench/support';
import { FAULTS, formatReport, runDrill } from '../drill/run';
import { step } from '../infra/provision/progress';

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-drill-'));
  fs.chmodSync(dataDir, 0o711); // embedded Postgres, running as its own user when we are root, must reach its folder
  const started = Date.now();
  const report = await runDrill({
    dataDir,
    cacheDir: config.cacheDir,
    portBase: arg('port-base', 18300),
    apiPort: arg('api-port', 18399),
    durationMs: arg('minutes', 4) * 60_000,
    buyers: arg('buyers', 6),
    poolMessages: arg('pool', 1000),
    faults: FAULTS,
    log: step,
  });
  process.stdout.write(`${formatReport(report)}\n(total ${((Date.now() - started) / 1000).toFixed(0)} s including start and checks)\n`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(report.ok ? 0 : 1);
}

main().catch((err) => {
  step(`drill failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
