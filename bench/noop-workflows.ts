/**
 * Baseline for bench/sessions.ts: a workflow registered under the same name as the real one, taking
 * the same signals and doing nothing with them. The API and worker code paths stay identical, so
 * the difference measured is our workflow logic and its activities.
 */
import { condition, defineQuery, defineSignal, defineUpdate, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ConversationInput, OpenedSession } from '../contracts/conversation';
import { BUYER_IDLE_MINUTES_DEFAULT } from '../domain/limits';
import { snapshotFor } from '../domain/session';

export async function conversationWorkflow(input: ConversationInput): Promise<void> {
  let messages = 0;
  setHandler(defineSignal('buyerMessage'), () => void messages++);
  setHandler(defineSignal('agentMessage'), () => void messages++);
  // The start call waits on this update; the baseline answers it at once, with a view of the same
  // shape as the real run's, so the API builds and sends the same record.
  const request = input.start!;
  const startedAt = new Date().toISOString();
  const view: OpenedSession = {
    ...request,
    status: 'open',
    agentId: null,
    turn: 'agent',
    snapshot: snapshotFor(1, BUYER_IDLE_MINUTES_DEFAULT, request.policy),
    nextDeadline: null,
    queuedAt: null,
    startedAt,
    lastBuyerMessageAt: null,
    lastAgentMessageAt: null,
    messageCount: messages,
    assignments: [],
    closeReason: null,
    closedAt: null,
  };
  setHandler(defineUpdate<OpenedSession>('sessionOpened'), () => view);
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

/** Floor for bench/handoffs.ts: counts the handoff signals it gets, and answers the count. */
export async function signalCountingNoopWorkflow(): Promise<void> {
  let signals = 0;
  setHandler(defineSignal('agentTransferred'), () => void signals++);
  setHandler(defineSignal('sessionRerouted'), () => void signals++);
  setHandler(defineQuery<number>('signals'), () => signals);
  await condition(() => false);
}
