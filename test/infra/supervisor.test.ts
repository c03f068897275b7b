/**
 * The supervisor under npm start and start:cluster, on real child processes: a killed child comes
 * back with a new pid after its backoff, one that keeps crashing makes it give up, and stopAll ends
 * every child.
 */
import { afterEach, expect, it } from 'vitest';
import { backoffMs, Supervisor, type RestartEvent } from '../../infra/cluster/supervisor';

const lines: string[] = [];
let supervisor: Supervisor | undefined;
afterEach(async () => {
  await supervisor?.stopAll();
  lines.length = 0;
});

const sleeper = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], stdio: 'ignore' as const };

it('doubles the backoff per crash in the window, up to its cap', () => {
  expect([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, 500, 15_000))).toEqual([500, 1000, 2000, 4000, 8000, 15_000]);
});

it('restarts a child killed with SIGKILL, with a new pid, and logs it', async () => {
  supervisor = new Supervisor({ log: (l) => lines.push(l), initialBackoffMs: 50 });
  const child = supervisor.start({ name: 'sleeper', ...sleeper });
  const firstPid = child.pid!;
  const restarted = new Promise<RestartEvent>((r) => supervisor!.once('restart', r));
  process.kill(firstPid, 'SIGKILL');
  const event = await restarted;
  expect(event.name).toBe('sleeper');
  expect(event.pid).not.toBe(firstPid);
  // Timers may fire a millisecond early against Date.now().
  expect(event.restartedAt - event.exitedAt).toBeGreaterThanOrEqual(45);
  expect(child.pid).toBe(event.pid);
  expect(child.running).toBe(true);
  expect(lines.some((l) => l.includes('signal SIGKILL') && l.includes('restarting in 50 ms'))).toBe(true);

  await supervisor.stopAll();
  expect(child.running).toBe(false);
});

it('gives up on a child that keeps crashing', async () => {
  supervisor = new Supervisor({ log: (l) => lines.push(l), initialBackoffMs: 10, maxBackoffMs: 20, maxCrashes: 3 });
  const gaveUp = new Promise<string>((r) => supervisor!.once('giveUp', r));
  const restarts: RestartEvent[] = [];
  supervisor.on('restart', (e) => restarts.push(e));
  supervisor.start({ name: 'crasher', command: process.execPath, args: ['-e', 'process.exit(3)'], stdio: 'ignore' });
  expect(await gaveUp).toBe('crasher');
  expect(restarts).toHaveLength(3);
  expect(lines.at(-1)).toMatch(/crasher crashed 4 times within 60 s \(last: code 3, signal null\); giving up/);
});
