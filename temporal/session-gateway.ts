import {
  isGrpcDeadlineError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { DomainError } from '../domain/errors';
import type { StartSessionRequest } from '../domain/session';
import { conversationWorkflowId, SESSION_ID_ATTR, SESSION_STATUS_ATTR, SHOP_ID_ATTR } from '../domain/temporal-names';
import {
  agentMessageSignal,
  buyerMessageSignal,
  closeSessionUpdate,
  CONVERSATION_WORKFLOW_TYPE,
  conversationSummary,
  type ConversationWorkflow,
  requestHumanUpdate,
  leaveQueueUpdate,
  sessionOpenedUpdate,
  sessionStateQuery,
  type CloseRequest,
  type ConversationView,
  type OpenedSession,
} from '../contracts/conversation';

export interface StartedSession {
  workflowId: string;
  /** The run serving the session now (its latest run once ended); repeated starts get the same one. */
  runId: string;
  /** The run's answer; null when the session had already ended (the caller reads the row). */
  opened: OpenedSession | null;
}

/** How long a start waits for the run to record the session; past it the caller retries the same start. */
export const SESSION_OPEN_WAIT_MS = 15_000;

/**
 * Starts the session's run and returns once the session is recorded with its settings snapshot, so
 * a read right after the start finds it. Idempotent (docs/rules.md §1.1): a running session is joined
 * (USE_EXISTING) and an ended one is never started again (REJECT_DUPLICATE): one id, one session.
 */
export async function startConversation(client: Client, taskQueue: string, req: StartSessionRequest): Promise<StartedSession> {
  const workflowId = conversationWorkflowId(req.shopId, req.sessionId);
  const startWorkflowOperation = new WithStartWorkflowOperation<ConversationWorkflow>(CONVERSATION_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [{ start: req }],
    staticSummary: conversationSummary(req),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: SHOP_ID_ATTR, value: req.shopId },
      { key: SESSION_ID_ATTR, value: req.sessionId },
      { key: SESSION_STATUS_ATTR, value: 'open' },
    ],
  });
  try {
    const { update, opened } = await client.withDeadline(Date.now() + SESSION_OPEN_WAIT_MS, async () => {
      const update = await client.workflow.startUpdateWithStart(sessionOpenedUpdate, { startWorkflowOperation, waitForStage: 'ACCEPTED' });
      return { update, opened: await update.result() };
    });
    // The update names the run it reached: the new one, or the running one a repeated start joined.
    const runId = update.workflowRunId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
    return { workflowId, runId, opened };
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) {
      throw new DomainError('session_not_ready', `session ${req.sessionId} has not been recorded yet; repeat the same start`, 503);
    }
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, opened: null };
  }
}

const handleOf = (client: Client, shopId: string, sessionId: string) =>
  client.workflow.getHandle(conversationWorkflowId(shopId, sessionId));

export async function reportMessage(
  client: Client,
  shopId: string,
  sessionId: string,
  message: { from: 'buyer' | 'agent'; messageId?: string; agentId?: string },
): Promise<void> {
  const handle = handleOf(client, shopId, sessionId);
  if (message.from === 'buyer') await handle.signal(buyerMessageSignal, { messageId: message.messageId });
  else await handle.signal(agentMessageSignal, { messageId: message.messageId, agentId: message.agentId });
}

/** 转人工: answers once the session is routed (assigned, queued or offline). */
export async function requestHuman(client: Client, shopId: string, sessionId: string): Promise<ConversationView> {
  return handleOf(client, shopId, sessionId).executeUpdate(requestHumanUpdate);
}

export async function closeConversation(client: Client, shopId: string, sessionId: string, req: CloseRequest): Promise<ConversationView> {
  return handleOf(client, shopId, sessionId).executeUpdate(closeSessionUpdate, { args: [req] });
}

export async function leaveQueue(client: Client, shopId: string, sessionId: string): Promise<ConversationView> {
  return handleOf(client, shopId, sessionId).executeUpdate(leaveQueueUpdate);
}

export async function queryConversation(client: Client, shopId: string, sessionId: string): Promise<ConversationView> {
  return handleOf(client, shopId, sessionId).query(sessionStateQuery);
}
