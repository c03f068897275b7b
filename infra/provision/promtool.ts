/**
 * promtool, Prometheus's own checker, for the test that lints both /metrics endpoints
 * (`promtool check metrics`). Taken from Debian's `prometheus` package without installing it (no
 * service, no root needed): the .deb is downloaded with `apt-get download` and only its promtool is
 * kept in the cache. PROMTOOL_PATH points at another one.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aptAllowed, aptGet } from './apt';
import { installOnce } from './cache-lock';
import { step } from './progress';

function run(cmd: string, args: string[], cwd?: string): boolean {
  return spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
}

export function ensurePromtool(cacheDir: string): string {
  if (process.env.PROMTOOL_PATH) {
    if (!fs.existsSync(process.env.PROMTOOL_PATH)) throw new Error(`PROMTOOL_PATH=${process.env.PROMTOOL_PATH} does not exist`);
    return process.env.PROMTOOL_PATH;
  }
  const dir = path.join(cacheDir, 'promtool');
  const bin = path.join(dir, 'promtool');
  fs.mkdirSync(cacheDir, { recursive: true });
  return installOnce(
    `${dir}.lock`,
    () => (fs.existsSync(bin) ? bin : null),
    () => {
      step("fetching promtool from Debian's prometheus package (19 MB, once)…");
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
      try {
        // Package lists may be missing on a fresh machine: refresh them when allowed, then retry.
        if (!run('apt-get', ['download', '-q', 'prometheus'], work)) {
          const how = aptAllowed();
          try {
            if (how) aptGet(['update', '-q'], how);
          } catch {
            // The download below says what is missing.
          }
          if (!run('apt-get', ['download', '-q', 'prometheus'], work))
            throw new Error('apt-get download prometheus failed: install promtool and set PROMTOOL_PATH');
        }
        const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'))!;
        if (!run('dpkg-deb', ['-x', deb, 'x'], work)) throw new Error(`dpkg-deb -x ${deb} failed`);
        fs.mkdirSync(dir, { recursive: true });
        // Copied under a temporary name and renamed, so a half-copied binary is never "ready".
        fs.copyFileSync(path.join(work, 'x', 'usr', 'bin', 'promtool'), `${bin}.part`);
        fs.chmodSync(`${bin}.part`, 0o755);
        fs.renameSync(`${bin}.part`, bin);
        step(`promtool ready: ${bin}`);
        return bin;
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    },
  );
}

/** `promtool check metrics` over an exposition: its complaints, one per line; none when clean. */
export function promtoolCheckMetrics(promtool: string, exposition: string): string[] {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
  return r.status === 0 ? lines : [...lines, `(exit ${r.status})`];
}
