import fs from 'node:fs';

/** Marks every process a test run starts (forks, Temporal servers, Postgres) through the environment. */
export const RUN_MARKER_VAR = 'CS_TEST_RUN';

/**
 * Ends the processes this test run started that are still alive: a fork killed on a timeout leaves
 * its Temporal server behind, which would hold the run's output pipe open and stall CI. Processes
 * are found by the marker inherited through their environment, so nothing else is touched.
 */
export function endLeftovers(runId: string): string[] {
  const marker = `${RUN_MARKER_VAR}=${runId}`;
  const ended: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.split('\0').includes(marker)) continue;
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ');
    try {
      process.kill(pid, 'SIGKILL');
      ended.push(`${pid} ${command}`);
    } catch {
      // exited meanwhile
    }
  }
  return ended;
}
