/**
 * `npm run shop:create -- <id> <name> [timeZone]`: the platform operator's first step for a new
 * merchant, against the running `npm start` (admin token from ADMIN_TOKEN or .data/admin-token).
 * Prints the shop's merchant key once: sign in to the console with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createApiClient } from '../api-client';
import { loadConfig } from '../config';

async function main(): Promise<void> {
  const [id, name, timeZone] = process.argv.slice(2);
  if (!id || !name) throw new Error('usage: npm run shop:create -- <id> <name> [timeZone, default Asia/Shanghai]');
  const config = loadConfig();
  const tokenFile = path.join(config.dataDir, 'admin-token');
  const token = config.api.adminToken ?? (fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new Error('no admin token: set ADMIN_TOKEN or run npm start once (it writes .data/admin-token)');
  const baseUrl = `http://${config.api.host}:${config.api.port}`;
  const { data, error, response } = await createApiClient(baseUrl, token).POST('/v1/admin/shops', {
    body: { id, name, ...(timeZone ? { timeZone } : {}) },
  });
  if (!data) throw new Error(`${response.status}: ${JSON.stringify(error)}`);
  process.stdout.write(
    `shop ${data.shop?.id} (${data.shop?.name}, ${data.shop?.timeZone})\nmerchant key (shown once): ${data.apiKey}\nconsole: ${baseUrl}/console/\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
