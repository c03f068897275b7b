/**
 * The production shape in every test run: the real Temporal server on Postgres (two history, two
 * matching), two workers, the relay and two APIs behind HAProxy, under a short mixed load while one
 * worker is killed with SIGKILL. Nothing may be lost: the drill's own checks (drill/run.ts) all pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { formatReport, PROBES, runDrill } from '../../drill/run';
import { freePortBase } from '../../infra/ports';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-short-drill-'));
fs.chmodSync(dataDir, 0o711); // embedded Postgres, running as its own user when we are root, must reach its folder
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** Short, but each part at work: a worker killed midway, pool messages distributed, every buyer through its minimum. */
const LOAD = { durationMs: 15_000, buyers: 3, minSessionsPerBuyer: 10, poolMessages: 60 };

it('loses nothing when a worker is killed mid-flow on the real server', { timeout: 15 * 60_000 }, async () => {
  const base = await freePortBase();
  const report = await runDrill({
    dataDir,
    cacheDir: loadConfig().cacheDir,
    portBase: base,
    apiPort: base + 70,
    ...LOAD,
    faults: ['worker'],
    log: () => undefined,
    settleMs: 240_000,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  // Beside the pool sessions and the probes, the buyers' own: at least their minimum each, however busy the machine.
  expect(report.sessionsStarted - LOAD.poolMessages - PROBES * report.recoveries.length).toBeGreaterThanOrEqual(
    LOAD.buyers * LOAD.minSessionsPerBuyer,
  );
  expect(report.poolAssigned).toBe(LOAD.poolMessages);
  expect(report.recoveries.map((r) => r.fault)).toEqual(['worker']);
  expect(report.recoveries[0].restartedMs).not.toBeNull();
  expect(report.tally.unexpected).toEqual([]);
});
