import type { Client } from '@temporalio/client';
import { SHOP_ID_ATTR, webhookWorkflowId } from '../domain/temporal-names';
import { webhookEndpointChangedSignal, webhookEndpointWorkflow } from '../workflows/webhook';

/** Starts the endpoint's delivery run, or wakes the one running (resume, replay, edit, delete). */
export async function startOrWakeWebhookRun(client: Client, taskQueue: string, shopId: string, endpointId: string): Promise<void> {
  await client.workflow.signalWithStart(webhookEndpointWorkflow, {
    workflowId: webhookWorkflowId(shopId, endpointId),
    taskQueue,
    args: [{ shopId, endpointId }],
    signal: webhookEndpointChangedSignal,
    signalArgs: [],
    typedSearchAttributes: [{ key: SHOP_ID_ATTR, value: shopId }],
  });
}
