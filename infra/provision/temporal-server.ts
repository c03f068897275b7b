/**
 * The real Temporal server for the production shape (`npm run start:cluster`, the drill): the
 * server, its SQL schema tool and its Web UI, built from their Go modules into the project cache
 * once and reused. The server's own env-driven config template is copied from the module beside
 * the binary, so the config the cluster runs is the one Temporal ships.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { goInstall, isExecutable } from './temporal-cli';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.32.0';
export const TEMPORAL_UI_MODULE = 'github.com/temporalio/ui-server/v2';
export const TEMPORAL_UI_VERSION = 'v2.42.1';

export interface TemporalServerBinaries {
  /** `server start --service …` */
  server: string;
  /** The SQL schema tool (`temporal-sql-tool`). */
  sqlTool: string;
  /** common/config/config_template_embedded.yaml from the server module. */
  configTemplate: string;
  /** The Web UI server, assets embedded. */
  ui: string;
}

function goModCache(): string {
  const r = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('`go env GOMODCACHE` failed');
  return r.stdout.trim();
}

/** TEMPORAL_SERVER_DIR (a folder holding server, sql and the template) wins over the cache. */
export async function resolveTemporalServer(cacheDir: string): Promise<TemporalServerBinaries> {
  const serverDir = process.env.TEMPORAL_SERVER_DIR || path.join(cacheDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const uiDir = process.env.TEMPORAL_UI_DIR || path.join(cacheDir, `temporal-ui-${TEMPORAL_UI_VERSION}`);
  const found: TemporalServerBinaries = {
    server: path.join(serverDir, 'server'),
    sqlTool: path.join(serverDir, 'sql'),
    configTemplate: path.join(serverDir, 'config_template_embedded.yaml'),
    ui: path.join(uiDir, 'server'),
  };
  if (!isExecutable(found.server) || !isExecutable(found.sqlTool)) {
    await goInstall(
      `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
      [
        `${TEMPORAL_SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      serverDir,
    );
  }
  if (!fs.existsSync(found.configTemplate)) {
    const source = path.join(
      goModCache(),
      `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`,
      'common',
      'config',
      'config_template_embedded.yaml',
    );
    fs.copyFileSync(source, found.configTemplate);
  }
  // Its own folder: the UI's binary is also called `server`.
  if (!isExecutable(found.ui)) {
    await goInstall(`the Temporal Web UI ${TEMPORAL_UI_VERSION}`, [`${TEMPORAL_UI_MODULE}/cmd/server@${TEMPORAL_UI_VERSION}`], uiDir);
  }
  for (const file of Object.values(found)) if (!fs.existsSync(file)) throw new Error(`provisioning finished but ${file} is missing`);
  return found;
}
