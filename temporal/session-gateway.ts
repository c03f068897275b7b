import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { StartSessionRequest } from '../domain/session';
import { conversationWorkflowId, SESSION_ID_ATTR, SESSION_STATUS_ATTR, SHOP_ID_ATTR } from '../domain/temporal-names';
import {
  agentMessageSignal,
  buyerMessageSignal,
  closeSessionUpdate,
  conversationWorkflow,
  humanRequestedSignal,
  leaveQueueUpdate,
  sessionStateQuery,
  type CloseRequest,
  type ConversationView,
} from '../workflows/conversation';

export interface StartedSession {
  workflowId: string;
  /** The run serving the session now (its latest run once ended); repeated starts get the same one. */
  runId: string;
}

/**
 * Starts the session's run. Idempotent (SPEC 1.1): a running session is joined (USE_EXISTING) and an
 * ended one is never started again (REJECT_DUPLICATE), so one session id is one session.
 */
export async function startConversation(client: Client, taskQueue: string, req: StartSessionRequest): Promise<StartedSession> {
  const workflowId = conversationWorkflowId(req.shopId, req.sessionId);
  try {
    const handle = await client.workflow.start(conversationWorkflow, {
      workflowId,
      taskQueue,
      args: [{ start: req }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SHOP_ID_ATTR, value: req.shopId },
        { key: SESSION_ID_ATTR, value: req.sessionId },
        { key: SESSION_STATUS_ATTR, value: 'open' },
      ],
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId };
  }
}

const handleOf = (client: Client, shopId: string, sessionId: string) => client.workflow.getHandle(conversationWorkflowId(shopId, sessionId));

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

export async function requestHuman(client: Client, shopId: string, sessionId: string): Promise<void> {
  await handleOf(client, shopId, sessionId).signal(humanRequestedSignal);
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
