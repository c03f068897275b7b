/**
 * One run per webhook endpoint (id `webhook:<shopId>:<endpointId>`): delivers the shop's events in
 * order per session, retries a failing receiver on durable timers with exponential backoff (visible
 * in the Web UI), pauses the endpoint after WEBHOOK_RETRY_WINDOW_MS of failure, and wakes on
 * `webhookEndpointChanged` (resumed, replayed, edited or deleted). The rules: docs/rules.md §6.8–§6.11.
 * Messages and types: contracts/webhook.ts.
 */

import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks';
import { webhookEndpointChangedSignal, type WebhookEndpointInput } from '../contracts/webhook';
import { WEBHOOK_IDLE_WAIT_MS, WEBHOOK_RETRY_WINDOW_MS, webhookBackoffMs } from '../domain/webhooks';

const acts = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '5 minutes',
  // The activity beats every 2 s, which the SDK throttles to one report per 80 % of this timeout; a
  // delivery on a worker that died resumes elsewhere within it (30 s before the drill; 10 s left too
  // little margin on a loaded machine).
  heartbeatTimeout: '20 seconds',
  // Database or worker trouble, not the receiver's: retried until it works.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function webhookEndpointWorkflow(input: WebhookEndpointInput): Promise<void> {
  let failures = input.carried?.failures ?? 0;
  let failingSince = input.carried?.failingSince ?? null;
  let changes = 0;
  setHandler(webhookEndpointChangedSignal, () => {
    changes++;
  });
  const idleWaitMs = input.idleWaitMs ?? WEBHOOK_IDLE_WAIT_MS;

  for (;;) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof webhookEndpointWorkflow>({ ...input, carried: { failures, failingSince } });
    }
    const seen = changes;
    const result = await acts.deliverWebhookEvents({ shopId: input.shopId, endpointId: input.endpointId, idleWaitMs });
    if (result.kind === 'gone') return;
    if (result.kind === 'paused') {
      failures = 0;
      failingSince = null;
      await condition(() => changes !== seen);
      continue;
    }
    if (result.kind === 'idle') {
      if (input.idlePauseMs) await condition(() => changes !== seen, input.idlePauseMs);
      continue;
    }
    if (result.failed === 0) {
      failures = 0;
      failingSince = null;
      continue;
    }
    failures++;
    failingSince ??= Date.now();
    if (Date.now() - failingSince >= WEBHOOK_RETRY_WINDOW_MS) {
      await acts.pauseWebhookEndpoint({
        endpointId: input.endpointId,
        reason: `paused after failing for ${Math.round((Date.now() - failingSince) / 3_600_000)} h: ${result.lastError ?? 'unknown error'}`,
      });
      continue;
    }
    // Backoff on a durable timer; a change (resume, replay, new URL) retries at once.
    await condition(() => changes !== seen, webhookBackoffMs(failures));
  }
}
