import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { deliverOutbox, type OutboxMessage } from '../db/repositories/outbox';
import { agentAssignedSignal } from '../workflows/conversation';

/** Turns committed outbox rows into signals to the session runs they concern. */
export function outboxSender(client: Client): (message: OutboxMessage) => Promise<void> {
  return async (message) => {
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

export function outboxFlusher(db: Db, client: Client): OutboxFlush {
  const send = outboxSender(client);
  return (opts = {}) => deliverOutbox(db, send, opts);
}
