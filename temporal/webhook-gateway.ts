import type { Client } from '@temporalio/client';
import { SHOP_ID_ATTR, webhookWorkflowId } from '../domain/temporal-names';
import { WEBHOOK_WORKFLOW_TYPE, webhookEndpointChangedSignal, type WebhookEndpointWorkflow } from '../contracts/webhook';

/** Starts the endpoint's delivery run, or wakes the one running (resume, replay, edit, delete). */
export async function startOrWakeWebhookRun(client: Client, taskQueue: string, shopId: string, endpointId: string): Promise<void> {
  await client.workflow.signalWithStart<WebhookEndpointWorkflow, []>(WEBHOOK_WORKFLOW_TYPE, {
    workflowId: webhookWorkflowId(shopId, endpointId),
    taskQueue,
    args: [{ shopId, endpointId }],
    signal: webhookEndpointChangedSignal,
    signalArgs: [],
    typedSearchAttributes: [{ key: SHOP_ID_ATTR, value: shopId }],
  });
}
