/**
 * Installs Debian packages the project provisions for itself (Chromium for the console tests,
 * HAProxy for the cluster) with apt, as root or through passwordless sudo.
 */
import { spawnSync } from 'node:child_process';
import { step } from './progress';

/** `pathVar`: the variable that points at an installed binary instead (named in the error). */
export function aptInstall(packages: string[], purpose: string, pathVar: string): void {
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !sudo) {
    throw new Error(
      `${packages.join(' and ')} missing and this user cannot install packages: run \`sudo apt-get install -y ${packages.join(' ')}\` or set ${pathVar}`,
    );
  }
  const apt = (args: string[]) => {
    const r = spawnSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
  };
  step(`installing ${packages.join(' and ')} from Debian for ${purpose}…`);
  apt(['update', '-q']);
  apt(['install', '-y', '-q', '--no-install-recommends', ...packages]);
}
