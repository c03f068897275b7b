import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { SessionSettings } from '../domain/session';
import { shopWorkflowId } from '../domain/temporal-names';
import { shopWorkflow, updateSessionSettingsUpdate, type SessionSettingsChange } from '../workflows/shop';

function startOptions(shopId: string, taskQueue: string) {
  return {
    workflowId: shopWorkflowId(shopId),
    taskQueue,
    args: [{ shopId }] as [{ shopId: string }],
    // The shop run is a singleton: starting it again joins the running one.
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
  };
}

export async function startShopWorkflow(client: Client, taskQueue: string, shopId: string): Promise<void> {
  await client.workflow.start(shopWorkflow, startOptions(shopId, taskQueue));
}

/** Sends the change through the shop's run (starting it if it is not running) and returns the saved version. */
export async function updateSessionSettings(client: Client, taskQueue: string, shopId: string, change: SessionSettingsChange): Promise<SessionSettings> {
  return client.workflow.executeUpdateWithStart(updateSessionSettingsUpdate, {
    args: [change],
    startWorkflowOperation: new WithStartWorkflowOperation(shopWorkflow, startOptions(shopId, taskQueue)),
  });
}
