/** The dependency checks behind /healthz and /readyz: each answers { ok } or { ok: false, error } within a deadline. */
import type { Client } from '@temporalio/client';
import { temporal as temporal_ } from '@temporalio/proto';
import type { Knex } from 'knex';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;
/** Workers long-poll about once a minute; one not seen for longer is gone. */
export const WORKER_POLL_FRESH_MS = 90_000;

export type CheckResult = { ok: boolean; error?: string };

async function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), HEALTH_CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function checkPostgres(db: Knex): Promise<CheckResult> {
  return check(() => db.raw('SELECT 1'));
}

export function checkTemporal(client: Client): Promise<CheckResult> {
  return check(() => client.workflowService.getSystemInfo({}));
}

/** A worker has polled the task queue within freshMs. */
export function checkWorker(client: Client, taskQueue: string, freshMs: number): Promise<CheckResult> {
  return check(async () => {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal_.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const fresh = (pollers ?? []).filter((p) => p.lastAccessTime && Date.now() - Number(p.lastAccessTime.seconds ?? 0) * 1000 < freshMs);
    if (fresh.length === 0) throw new Error(`no worker has polled task queue ${taskQueue} in the last ${freshMs / 1000} s`);
  });
}
