/**
 * openapi-python-client, from PyPI, for the test that generates a Python client from the served
 * description and drives a flow through it. Installed once into a virtualenv in the cache (the
 * generated client's own dependencies, httpx and attrs, come with it) and reused by every clone.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installOnce } from './cache-lock';
import { step } from './progress';

export const OPENAPI_PYTHON_CLIENT_VERSION = '0.29.1';

export interface PythonClientGenerator {
  /** The virtualenv's python: runs the generated client. */
  python: string;
  /** The generator's command. */
  generator: string;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

export function ensurePythonClientGenerator(cacheDir: string): PythonClientGenerator {
  const venv = path.join(cacheDir, `openapi-python-client-${OPENAPI_PYTHON_CLIENT_VERSION}`);
  const tools = { python: path.join(venv, 'bin', 'python'), generator: path.join(venv, 'bin', 'openapi-python-client') };
  // The generator's script is written last by pip: its presence means a whole install.
  fs.mkdirSync(cacheDir, { recursive: true });
  return installOnce(
    `${venv}.lock`,
    () => (fs.existsSync(tools.generator) ? tools : null),
    () => {
      const t0 = Date.now();
      step(`installing openapi-python-client ${OPENAPI_PYTHON_CLIENT_VERSION} from PyPI into ${venv} (once)…`);
      fs.rmSync(venv, { recursive: true, force: true });
      run('python3', ['-m', 'venv', venv]);
      run(tools.python, [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `openapi-python-client==${OPENAPI_PYTHON_CLIENT_VERSION}`,
      ]);
      step(`openapi-python-client installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return tools;
    },
  );
}
