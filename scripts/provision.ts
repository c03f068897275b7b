/** `npm run provision`: fetches or builds both Temporal servers into the cache ahead of time. */
import { loadConfig } from '../config';
import { step } from '../infra/log';
import { resolveTemporalCli } from '../infra/temporal-cli';
import { resolveTestServer } from '../infra/test-server';

async function main(): Promise<void> {
  const { cacheDir } = loadConfig();
  step(`Temporal CLI (dev server + Web UI): ${await resolveTemporalCli(cacheDir)}`);
  step(`time-skipping test server: ${resolveTestServer(cacheDir)}`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
