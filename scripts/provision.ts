/**
 * `npm run provision`: everything the system and its tests run on, fetched or built into the cache
 * ahead of time: the Temporal CLI and the time-skipping test server, the real Temporal server and
 * HAProxy (the production shape), Debian's chromium, the Python client generator and promtool, and
 * the console's bundle. Each step is a no-op once cached; `npm test` runs this first.
 */
import { loadConfig } from '../config';
import { step } from '../infra/provision/progress';
import { resolveTemporalCli } from '../infra/provision/temporal-cli';
import { resolveTestServer } from '../infra/provision/test-server';
import { ensureChromium } from '../infra/provision/chromium';
import { ensurePythonClientGenerator } from '../infra/provision/python-client-generator';
import { ensurePromtool } from '../infra/provision/promtool';
import { resolveTemporalServer } from '../infra/provision/temporal-server';
import { ensureHaproxy } from '../infra/cluster/load-balancer';
import { buildConsole } from './build-console';

async function main(): Promise<void> {
  const { cacheDir } = loadConfig();
  step(`Temporal CLI (dev server + Web UI): ${await resolveTemporalCli(cacheDir)}`);
  step(`time-skipping test server: ${resolveTestServer(cacheDir)}`);
  step(`browser for the console tests: ${ensureChromium()}`);
  step(`Python client generator for the contract test: ${ensurePythonClientGenerator(cacheDir).generator}`);
  step(`promtool for the metrics lint: ${ensurePromtool(cacheDir)}`);
  step(`the production shape: Temporal server ${(await resolveTemporalServer(cacheDir)).server}, HAProxy ${ensureHaproxy()}`);
  buildConsole();
  step('console built: console/dist');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
