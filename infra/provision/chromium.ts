/**
 * The browser the console tests drive: Debian's `chromium` (Playwright's own browser downloads do not
 * work on these machines). Installed with apt, with CJK fonts for the Chinese pages, when missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { aptInstall } from './apt';
import { step } from './progress';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PACKAGES = ['chromium', 'fonts-noto-cjk'];

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
  aptInstall(PACKAGES, "the console's browser tests (about a minute)", 'CHROMIUM_PATH');
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt installed chromium but ${CHROMIUM_PATH} is missing`);
  step(`chromium ready: ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}
