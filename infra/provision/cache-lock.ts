/**
 * One installer at a time per cached tool: two test files (or two clones) provisioning the same tool
 * at once would each wipe the other's half-made directory. A directory made with mkdir is the lock
 * (atomic on every filesystem); a lock older than `staleMs` is a crashed installer's and is taken over.
 */
import fs from 'node:fs';
import { step } from './progress';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs `install` unless `ready()` already holds, under `<lockPath>`; waits for another installer to finish. */
export function installOnce<T>(lockPath: string, ready: () => T | null, install: () => T, staleMs = 20 * 60_000): T {
  let told = false;
  for (;;) {
    const done = ready();
    if (done !== null) return done;
    try {
      fs.mkdirSync(lockPath, { recursive: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) fs.rmSync(lockPath, { recursive: true, force: true });
      else {
        if (!told) step(`waiting for another installer (${lockPath})…`);
        told = true;
        pause(1_000);
      }
      continue;
    }
    try {
      return ready() ?? install();
    } finally {
      fs.rmSync(lockPath, { recursive: true, force: true });
    }
  }
}
