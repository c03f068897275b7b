import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config';
import { step } from './progress';

const POM = path.join(PROJECT_ROOT, 'infra', 'provision', 'test-server', 'pom.xml');

const LAUNCHER = [
  '#!/usr/bin/env bash',
  '# Written by infra/provision/test-server.ts. Usage: temporal-test-server <port> [args]',
  'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
  'port="$1"; shift',
  // The client JIT only: a test server lives seconds to a minute, where C2's compiling costs more CPU
  // than its faster code saves (a third of the server's CPU over a workflow test file).
  'exec java -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \\',
  '  -cp "$here/lib/*" io.temporal.testserver.TestServer "$port" "$@"',
  '',
].join('\n');

/** Written beside and renamed into place: a run starting meanwhile never finds half a script. */
function writeLauncher(launcher: string): void {
  const tmp = `${launcher}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, LAUNCHER, { mode: 0o755 });
  fs.renameSync(tmp, launcher);
}

/**
 * Finds or provisions the Java time-skipping test server: TEMPORAL_TEST_SERVER_PATH, else a launcher
 * in the project cache, else Maven resolves the jars into the cache and the launcher is written.
 * The SDK runs the executable as `<exe> <port>` and kills that pid, so the launcher execs java.
 * No --enable-time-skipping: the SDK expects time locked at start and unlocks it itself while a
 * client waits on a result or calls env.sleep (unlocked, time would race past running activities).
 */
export function resolveTestServer(cacheDir: string): string {
  const explicit = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (explicit) return explicit;

  const pom = fs.readFileSync(POM, 'utf8');
  // The jars are keyed by the pom (a version bump resolves afresh); the launcher is rewritten when it changes.
  const key = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const home = path.join(cacheDir, 'test-server', key);
  const launcher = path.join(home, 'temporal-test-server');
  const resolved = path.join(home, 'lib', '.resolved');
  if (fs.existsSync(resolved)) {
    if (!fs.existsSync(launcher) || fs.readFileSync(launcher, 'utf8') !== LAUNCHER) writeLauncher(launcher);
    return launcher;
  }

  step('resolving the Temporal time-skipping test server from Maven Central (first run only)…');
  const lib = path.join(home, 'lib');
  fs.mkdirSync(lib, { recursive: true });
  const started = Date.now();
  const result = spawnSync(
    'mvn',
    ['-B', '-ntp', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error('Maven could not resolve io.temporal:temporal-test-server (is Java + Maven installed?)');
  }
  fs.writeFileSync(resolved, '');
  writeLauncher(launcher);
  step(`test server ready in ${Math.round((Date.now() - started) / 1000)} s: ${launcher}`);
  return launcher;
}
