/**
 * Installs Debian packages the project provisions for itself (Chromium for the console tests,
 * HAProxy for the cluster) with apt, as root or through passwordless sudo.
 */
import { spawnSync } from 'node:child_process';
import { step } from './progress';

/** Whether this process may run apt-get: as root, or through passwordless sudo. */
export function aptAllowed(): { asRoot: boolean } | null {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) return { asRoot };
  return spawnSync('sudo', ['-n', 'true']).status === 0 ? { asRoot } : null;
}

/** Runs `apt-get <args>` as root or through sudo (see aptAllowed); throws when it fails. */
export function aptGet(args: string[], how: { asRoot: boolean }): void {
  const r = spawnSync(how.asRoot ? 'apt-get' : 'sudo', how.asRoot ? args : ['-n', 'apt-get', ...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
}

/** `pathVar`: the variable that points at an installed binary instead (named in the error). */
export function aptInstall(packages: string[], purpose: string, pathVar: string): void {
  const how = aptAllowed();
  if (!how) {
    throw new Error(
      `${packages.join(' and ')} missing and this user cannot install packages: run \`sudo apt-get install -y ${packages.join(' ')}\` or set ${pathVar}`,
    );
  }
  step(`installing ${packages.join(' and ')} from Debian for ${purpose}…`);
  aptGet(['update', '-q'], how);
  aptGet(['install', '-y', '-q', '--no-install-recommends', ...packages], how);
}
