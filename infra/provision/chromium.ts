/**
 * The browser the console tests drive: Debian's `chromium` (Playwright's own browser downloads do not
 * work on these machines). Installed with apt, with CJK fonts for the Chinese pages, when missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { step } from './progress';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PACKAGES = ['chromium', 'fonts-noto-cjk'];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

function hasFonts(): boolean {
  try {
    return /CJK/i.test(execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM_PATH) && hasFonts()) return CHROMIUM_PATH;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${CHROMIUM_PATH} does not exist`);
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !sudo) {
    throw new Error(
      `Chromium is missing and this user cannot install packages: run \`sudo apt-get install -y ${PACKAGES.join(' ')}\` or set CHROMIUM_PATH`,
    );
  }
  const apt = (args: string[]) => (asRoot ? run('apt-get', args) : run('sudo', ['-n', 'apt-get', ...args]));
  step(`installing ${PACKAGES.join(' and ')} from Debian for the console's browser tests (about a minute)…`);
  apt(['update', '-q']);
  apt(['install', '-y', '-q', '--no-install-recommends', ...PACKAGES]);
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt installed chromium but ${CHROMIUM_PATH} is missing`);
  step(`chromium ready: ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}
