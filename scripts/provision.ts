/**
 * `npm run provision`: fetches or builds both Temporal servers into the cache, installs Debian's
 * chromium for the console tests, and builds the console, ahead of time (npm start / npm test do the
 * same on first use).
 */
import { loadConfig } from '../config';
import { step } from '../infra/provision/progress';
import { resolveTemporalCli } from '../infra/provision/temporal-cli';
import { resolveTestServer } from '../infra/provision/test-server';
import { ensureChromium } from '../infra/provision/chromium';
import { ensurePythonClientGenerator } from '../infra/provision/python-client-generator';
import { ensurePromtool } from '../infra/provision/promtool';
import { buildConsole } from './build-console';

async function main(): Promise<void> {
  const { cacheDir } = loadConfig();
  step(`Temporal CLI (dev server + Web UI): ${await resolveTemporalCli(cacheDir)}`);
  step(`time-skipping test server: ${resolveTestServer(cacheDir)}`);
  step(`browser for the console tests: ${ensureChromium()}`);
  step(`Python client generator for the contract test: ${ensurePythonClientGenerator(cacheDir).generator}`);
  step(`promtool for the metrics lint: ${ensurePromtool(cacheDir)}`);
  buildConsole();
  step('console built: console/dist');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
