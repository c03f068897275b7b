import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { CONDITION_TIMEOUT_MS } from './test/support/wait.js';

/**
 * The files that take longest, longest first (measured: docs/testing.md "What runs where"): started
 * first, they finish beside the short ones instead of running alone at the end.
 */
const HEAVIEST = [
  'test/console/console.test.ts',
  'test/cluster/short-drill.test.ts',
  'test/api/outages.test.ts',
  'test/integration/observability.test.ts',
  'test/integration/python-client.test.ts',
  'test/workflows/routing.test.ts',
  'test/workflows/replay.test.ts',
  'test/integration/sessions-api.test.ts',
  'test/workflows/webhook.test.ts',
  'test/workflows/conversation.test.ts',
];

class HeaviestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = HEAVIEST.findIndex((h) => f.moduleId.endsWith(h));
      return i === -1 ? HEAVIEST.length : i;
    };
    const rest = await super.sort(files.filter((f) => rank(f) === HEAVIEST.length));
    return [...files.filter((f) => rank(f) < HEAVIEST.length).sort((a, b) => rank(a) - rank(b)), ...rest];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Child processes rather than threads: Temporal's native worker is at home in a process of its own.
    // 2 cores → 2 files at a time.
    pool: 'forks',
    maxWorkers: 2,
    // Files run one after another in the same two processes: the app's modules, the SDK and its native
    // addon are loaded once per process instead of once per file (≈ 35 s of CPU over a run). Each file still
    // starts its own servers and database and stops them in its afterAll; nothing is mocked.
    isolate: false,
    sequence: { sequencer: HeaviestFirst },
    testTimeout: 120_000,
    // expect.poll waits for a condition; its 1 s default is a wall-clock budget a busy machine misses
    // (a page reloading after a workflow update). As long as every other wait for a condition.
    expect: { poll: { timeout: CONDITION_TIMEOUT_MS } },
    hookTimeout: 300_000,
    // Every error answer must be in its operation's catalogue (api/error-catalogue.ts).
    env: { CS_STRICT_ERROR_CODES: '1' },
    reporters: ['default'],
  },
});
