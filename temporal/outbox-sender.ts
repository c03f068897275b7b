import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OfflineAssignedMessage, OutboxMessage } from '../db/repositories/outbox';
import { SESSION_ID_ATTR, SESSION_STATUS_ATTR, SHOP_ID_ATTR } from '../domain/temporal-names';
import {
  agentAssignedSignal,
  agentTransferredSignal,
  sessionReroutedSignal,
  CONVERSATION_WORKFLOW_TYPE,
  conversationSummary,
  type ConversationWorkflow,
} from '../contracts/conversation';
import { notifyAgentAvailable, notifyAgentLeft, notifyAgentReturned } from './shop-gateway';

/** The session's run ended (it waited in the pool past its expiry, or predates waiting): start its next run with the agent. */
async function restartWithAgent(client: Client, taskQueue: string, message: OfflineAssignedMessage): Promise<void> {
  await client.workflow.signalWithStart<ConversationWorkflow, [typeof message.assignment]>(CONVERSATION_WORKFLOW_TYPE, {
    workflowId: message.workflowId,
    taskQueue,
    staticSummary: conversationSummary(message.session.request),
    args: [{ resume: message.session }],
    signal: agentAssignedSignal,
    signalArgs: [message.assignment],
    typedSearchAttributes: [
      { key: SHOP_ID_ATTR, value: message.session.request.shopId },
      { key: SESSION_ID_ATTR, value: message.session.request.sessionId },
      { key: SESSION_STATUS_ATTR, value: 'active' },
    ],
  });
}

/**
 * Turns committed outbox rows into Temporal operations, choosing the cheapest one: a signal to the
 * run when it is alive (queue drains, pool messages whose run waits for its assignment), a
 * signal-with-start only when the run has ended.
 */
export function outboxSender(client: Client, taskQueue: string): (message: OutboxMessage) => Promise<void> {
  return async (message) => {
    if (message.kind === 'agent_available') {
      await notifyAgentAvailable(client, taskQueue, message.shopId, message.agentId);
      return;
    }
    if (message.kind === 'agent_left') {
      await notifyAgentLeft(client, taskQueue, message.shopId, {
        agentId: message.agentId,
        since: message.since,
        graceMs: message.graceMs,
      });
      return;
    }
    if (message.kind === 'agent_returned') {
      await notifyAgentReturned(client, taskQueue, message.shopId, message.agentId, message.at);
      return;
    }
    if (message.kind === 'agent_transferred' || message.kind === 'session_rerouted') {
      // A run that ended meanwhile needs nothing: its close read the holder from Postgres.
      const handle = client.workflow.getHandle(message.workflowId);
      const sent =
        message.kind === 'agent_transferred'
          ? handle.signal(agentTransferredSignal, message.transfer)
          : handle.signal(sessionReroutedSignal, message.reroute);
      await sent.catch((err) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
      return;
    }
    if (message.kind === 'offline_assigned' && !message.awaitingRun) {
      await restartWithAgent(client, taskQueue, message);
      return;
    }
    try {
      const runId = message.kind === 'offline_assigned' ? (message.waitingRunId ?? undefined) : undefined;
      await client.workflow.getHandle(message.workflowId, runId).signal(agentAssignedSignal, message.assignment);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // A pool message whose run stopped waiting meanwhile (or was replaced) starts the session
      // again, or signals its current run; for a live assignment the run ended (its close raced the
      // assignment) and Postgres already holds the truth.
      if (message.kind === 'offline_assigned') await restartWithAgent(client, taskQueue, message);
    }
  };
}
