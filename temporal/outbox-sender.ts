import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { deliverOutbox, type OutboxMessage } from '../db/repositories/outbox';
import { SESSION_ID_ATTR, SESSION_STATUS_ATTR, SHOP_ID_ATTR } from '../domain/temporal-names';
import { agentAssignedSignal, conversationWorkflow } from '../workflows/conversation';
import { notifyAgentAvailable } from './shop-gateway';

/** Turns committed outbox rows into signals to the session runs they concern. */
export function outboxSender(client: Client, taskQueue: string): (message: OutboxMessage) => Promise<void> {
  return async (message) => {
    if (message.kind === 'agent_available') {
      await notifyAgentAvailable(client, taskQueue, message.shopId, message.agentId);
      return;
    }
    if (message.kind === 'offline_assigned') {
      // Signal-with-start: joins a live run, or starts the session's next run with the agent.
      await client.workflow.signalWithStart(conversationWorkflow, {
        workflowId: message.workflowId,
        taskQueue,
        args: [{ resume: message.session }],
        signal: agentAssignedSignal,
        signalArgs: [message.assignment],
        typedSearchAttributes: [
          { key: SHOP_ID_ATTR, value: message.session.request.shopId },
          { key: SESSION_ID_ATTR, value: message.session.request.sessionId },
          { key: SESSION_STATUS_ATTR, value: 'active' },
        ],
      });
      return;
    }
    try {
      await client.workflow.getHandle(message.workflowId).signal(agentAssignedSignal, message.assignment);
    } catch (err) {
      // The run ended meanwhile (e.g. its close raced the assignment); Postgres already holds the truth.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
}

/** Delivers whatever is pending; used right after a commit and by the worker's periodic sweep. */
export type OutboxFlush = (opts?: { shopId?: string; olderThanMs?: number }) => Promise<number>;

export function outboxFlusher(db: Db, client: Client, taskQueue: string): OutboxFlush {
  const send = outboxSender(client, taskQueue);
  return (opts = {}) => deliverOutbox(db, send, opts);
}
