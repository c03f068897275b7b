/**
 * Builds the web console (console/ → console/dist) when its sources, the typed client or the shared
 * domain rules are newer than the last build. `npm start` and `npm test` call it; `--force` rebuilds.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { step } from '../infra/provision/progress';

const SOURCES = ['console/src', 'console/index.html', 'console/vite.config.mts', 'api-client', 'domain', 'package-lock.json'];
const BUILT = path.join(PROJECT_ROOT, 'console', 'dist', 'index.html');

function newestMtime(p: string): number {
  const full = path.join(PROJECT_ROOT, p);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(full).map((entry) => newestMtime(path.join(p, entry))));
}

export function buildConsole(force = false): void {
  const builtAt = fs.existsSync(BUILT) ? fs.statSync(BUILT).mtimeMs : 0;
  if (!force && builtAt > 0 && Math.max(...SOURCES.map(newestMtime)) <= builtAt) return;
  step('building the web console (vite build console/)…');
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'console/vite.config.mts',
      '--logLevel',
      'warn',
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error(`console build failed (exit ${result.status})`);
  step(`console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) buildConsole(process.argv.includes('--force'));
