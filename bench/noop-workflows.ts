/**
 * Baseline for bench/sessions.ts: a workflow registered under the same name as the real one, taking
 * the same signals and doing nothing with them. The API and worker code paths stay identical, so
 * the difference measured is our workflow logic and its activities.
 */
import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

export async function conversationWorkflow(): Promise<void> {
  let messages = 0;
  setHandler(defineSignal('buyerMessage'), () => void messages++);
  setHandler(defineSignal('agentMessage'), () => void messages++);
  // The start call waits on this update; the baseline answers it at once.
  setHandler(defineUpdate<null>('sessionOpened'), () => null);
  await condition(() => false);
}
