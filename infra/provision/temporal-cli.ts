import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { step } from './progress';

/** The last CLI tag `go install pkg@version` accepts (later tags carry a replace directive). */
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Lets the SDK fetch the CLI as it does on a connected machine; fails fast where there is no internet. */
async function trySdkDownload(downloadDir: string, target: string): Promise<boolean> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  fs.mkdirSync(downloadDir, { recursive: true });
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir } },
    });
    await env.teardown();
  } catch (err) {
    step(`SDK download of the Temporal CLI unavailable (${String(err).split('\n')[0].slice(0, 160)})`);
    return false;
  }
  const downloaded = fs
    .readdirSync(downloadDir)
    .map((f) => path.join(downloadDir, f))
    .find((f) => path.basename(f).startsWith('temporal') && isExecutable(f));
  if (!downloaded) return false;
  fs.copyFileSync(downloaded, target);
  fs.chmodSync(target, 0o755);
  return true;
}

/**
 * `go install`s `packages` into `binDir` from the Go module proxy, printing progress (minutes on a
 * first build; Go prints each module it fetches). Shared by the CLI and the cluster's server.
 */
export async function goInstall(what: string, packages: string[], binDir: string): Promise<void> {
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error(
      `${what} not found and no Go toolchain to build it: install Go (or see the README for the variable that points at a binary)`,
    );
  }
  step(`building ${what} with Go (${packages.join(' ')}); the first build takes several minutes…`);
  const started = Date.now();
  fs.mkdirSync(binDir, { recursive: true });
  const child = spawn('go', ['install', '-v', ...packages], {
    env: { ...process.env, GOBIN: binDir, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let compiled = 0;
  let lastLine = '';
  const ticker = setInterval(() => {
    step(`  … still building ${what} (${Math.round((Date.now() - started) / 1000)} s, ${compiled} packages compiled)`);
  }, 15_000);
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lastLine = line;
      if (line.startsWith('go: downloading')) step(`  ${line}`);
      else compiled += 1;
    }
  });
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearInterval(ticker);
  if (code !== 0) throw new Error(`go install of ${what} failed (exit ${code}): ${lastLine}`);
  step(`${what} built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * Finds or provisions the Temporal CLI (dev server + Web UI). Order: TEMPORAL_CLI_PATH, `temporal`
 * on PATH, the project cache, the SDK's download, a Go build into the cache.
 */
export async function resolveTemporalCli(cacheDir: string): Promise<string> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;

  const binDir = path.join(cacheDir, 'bin');
  const cached = path.join(binDir, 'temporal');
  if (isExecutable(cached)) return cached;

  fs.mkdirSync(binDir, { recursive: true });
  if (await trySdkDownload(path.join(cacheDir, 'sdk-download'), cached)) return cached;
  await goInstall('the Temporal CLI', [TEMPORAL_CLI_GO_PACKAGE], binDir);
  if (!isExecutable(cached)) throw new Error(`go install finished but ${cached} is missing`);
  return cached;
}

/**
 * Flags for every dev server this project starts (`npm start`, the integration tests, the
 * benchmarks). The dev server keeps all its state behind one SQLite connection, so every query it
 * saves is throughput (measured with its persistence metrics on bench/delivery's floor):
 * - the CLI re-reads search-attribute and namespace metadata on every read (so attributes created
 *   at run time show at once); ours are all registered at start, so the server's own 60 s cache is
 *   enough. That was ~6 of ~11 queries per assignment signal; session starts went ~125 → ~190/s.
 * - a database file (not the in-memory default) runs in WAL mode with synchronous=NORMAL: a killed
 *   process loses no commit, only a power cut can lose the last ones. Starts went ~96 → ~164/s and
 *   assignment signals ~36 → ~59/s.
 */
export function devServerArgs(opts: { dbFile?: string } = {}): string[] {
  const args = ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  return args;
}
