/**
 * Replays recorded histories (test/fixtures/histories, written by `npm run record-histories`)
 * through the current workflow code. A change that would break running sessions or shop runs
 * (a reordered activity, a removed timer) fails here with a DeterminismViolationError.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { serviceMetricsSinks } from '../../infra/worker-metrics';
import { workflowBundle } from '../support/temporal';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
// One folder per recording generation: histories of older workflow code keep replaying.
const files = fs
  .readdirSync(DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded histories', () => {
  it('has histories for both workflows to replay', () => {
    expect(files.some((f) => path.basename(f).startsWith('conversation-'))).toBe(true);
    expect(files.some((f) => path.basename(f).startsWith('shop-'))).toBe(true);
  });

  // With the worker's own sinks (not called during replay): the code replays as it runs.
  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
    expect(history.events.length).toBeGreaterThan(3);
    await expect(
      Worker.runReplayHistory({ workflowBundle: workflowBundle(), sinks: serviceMetricsSinks() }, history, file),
    ).resolves.toBeUndefined();
  });
});
