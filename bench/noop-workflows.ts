/**
 * Baseline for bench/sessions.ts: a workflow registered under the same name as the real one, taking
 * the same signals and doing nothing with them. The API and worker code paths stay identical, so
 * the difference measured is our workflow logic and its activities.
 */
import { condition, defineSignal, defineUpdate, setHandler, upsertSearchAttributes } from '@temporalio/workflow';

export async function conversationWorkflow(): Promise<void> {
  let messages = 0;
  setHandler(defineSignal('buyerMessage'), () => void messages++);
  setHandler(defineSignal('agentMessage'), () => void messages++);
  // The start call waits on this update; the baseline answers it at once.
  setHandler(defineUpdate<null>('sessionOpened'), () => null);
  await condition(() => false);
}

/**
 * Floor for bench/delivery.ts: a run that waits for its assignment signal and, on it, marks itself
 * active in visibility, as a pooled session's run does, and nothing else.
 */
export async function pooledNoopWorkflow(): Promise<void> {
  let assigned = false;
  setHandler(defineSignal('agentAssigned'), () => void (assigned = true));
  await condition(() => assigned);
  upsertSearchAttributes({ SessionStatus: ['active'] });
  await condition(() => false);
}
