/**
 * The contract as another language generates it: openapi-python-client (from PyPI, installed once
 * into the cache) generates a client from the served description with no warning, and a chat
 * backend's whole flow runs through it against the real API, worker and dev server, with typed
 * results (test/python/flow.py).
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../../domain/distribution';
import { ensurePythonClientGenerator, type PythonClientGenerator } from '../../infra/provision/python-client-generator';
import { call, createShopViaApi, startStack, type Stack } from '../support/stack';

let stack: Stack;
let base: string;
let tools: PythonClientGenerator;
const SHOP = 'py-a';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-pyclient-'));

beforeAll(async () => {
  tools = ensurePythonClientGenerator(loadConfig().cacheDir);
  stack = await startStack();
  base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a Python client generated from the served OpenAPI', () => {
  it('generates without a warning and drives a whole flow with typed results', async () => {
    const spec = path.join(work, 'openapi.json');
    fs.writeFileSync(spec, await (await fetch(`${base}/openapi.json`)).text());
    const gen = spawnSync(tools.generator, ['generate', '--path', spec, '--meta', 'none', '--output-path', path.join(work, 'cs_client')], {
      encoding: 'utf8',
      // Its post-generation formatter (ruff) is installed beside it in the same virtualenv.
      env: { ...process.env, PATH: `${path.dirname(tools.generator)}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    expect(gen.status, gen.stdout + gen.stderr).toBe(0);
    expect(`${gen.stdout}${gen.stderr}`).not.toMatch(/warning|unable to process/i);

    const key = await createShopViaApi(stack.app, SHOP);
    // Distribution off: py-2 stays in the pool while Bob comes online and takes py-1 by transfer. On, a
    // slot of the shop's schedule (at the wall clock's :00/:30) or Bob's own agent-available run could
    // give py-2 to Bob first and fill his one seat.
    const off = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/distribution`, {
      key,
      body: { settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, enabled: false } },
    });
    expect(off.status).toBe(200);
    // Asynchronously: the API it calls answers from this very process.
    const flow = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        tools.python,
        [path.resolve(__dirname, '..', 'python', 'flow.py')],
        { encoding: 'utf8', env: { ...process.env, PYTHONPATH: work, CS_BASE_URL: base, CS_SHOP: SHOP, CS_KEY: key }, timeout: 120_000 },
        (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(flow.status, flow.stderr).toBe(0);
    const seen = JSON.parse(flow.stdout.trim().split('\n').at(-1)!);
    expect(seen).toMatchObject({
      agent: 'Ann',
      s1_status: 'active',
      s1_agent_is_ann: true,
      s2_status: 'queued',
      s2_queue_position: 1,
      s2_place: 1,
      live_turn: 'agent',
      live_deadline_reason: 'agent_reply_timeout',
      transferred_to_bob: true,
      left_reason: 'left_queue',
      closed_reason: 'closed_by_agent',
    });
    // Paged three at a time, in order, every change there.
    expect(seen.event_types).toEqual(
      expect.arrayContaining([
        'session.opened',
        'session.assigned',
        'session.queued',
        'session.transferred',
        'session.closed',
        'offline_message.created',
      ]),
    );
  });
});
