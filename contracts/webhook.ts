/**
 * The webhook delivery run's public contract: its workflow type, input and signal. The API's
 * gateway and tests import this, never the workflow code. Wire names are permanent.
 */
import { defineSignal } from '@temporalio/workflow';

/** The registered workflow type (the exported function's name in workflows/). */
export const WEBHOOK_WORKFLOW_TYPE = 'webhookEndpointWorkflow';

export interface WebhookEndpointInput {
  shopId: string;
  endpointId: string;
  /** How long an idle delivery activity waits (long-polls) for new events. */
  idleWaitMs?: number;
  /**
   * A durable pause between idle polls (default none: the long-poll is the wait). The time-skipping
   * test server cannot skip time while an activity runs, so tests poll briefly and pause here.
   */
  idlePauseMs?: number;
  carried?: { failures: number; failingSince: number | null };
}

/** The workflow's signature, for typed client calls by type name. */
export type WebhookEndpointWorkflow = (input: WebhookEndpointInput) => Promise<void>;

/** Resumed, replayed, edited or deleted: the run looks at its endpoint again. */
export const webhookEndpointChangedSignal = defineSignal<[]>('webhookEndpointChanged');
