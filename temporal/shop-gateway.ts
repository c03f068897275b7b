import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { DistributionRun } from '../db/repositories/distribution';
import type { SessionSettings } from '../domain/session';
import { SHOP_ID_ATTR, shopWorkflowId } from '../domain/temporal-names';
import {
  agentAvailableSignal,
  agentLeftSignal,
  agentReturnedSignal,
  runDistributionNowUpdate,
  SHOP_WORKFLOW_TYPE,
  shopStateQuery,
  updateDistributionSettingsUpdate,
  updateSessionSettingsUpdate,
  updateShopTimeZoneUpdate,
  type DistributionSettingsChange,
  type SessionSettingsChange,
  type ShopTimeZoneChange,
  type ShopView,
  type ShopWorkflow,
} from '../contracts/shop';

function startOptions(shopId: string, taskQueue: string) {
  return {
    workflowId: shopWorkflowId(shopId),
    taskQueue,
    args: [{ shopId }] as [{ shopId: string }],
    // The shop run is a singleton: starting it again joins the running one.
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    typedSearchAttributes: [{ key: SHOP_ID_ATTR, value: shopId }],
  };
}

export async function startShopWorkflow(client: Client, taskQueue: string, shopId: string): Promise<void> {
  await client.workflow.start<ShopWorkflow>(SHOP_WORKFLOW_TYPE, startOptions(shopId, taskQueue));
}

/** Every change goes through the shop's run (started if it is not running), so its history records it. */
function updateShop<Ret, Args extends unknown[]>(
  client: Client,
  taskQueue: string,
  shopId: string,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
  updateId?: string,
): Promise<Ret> {
  return client.workflow.executeUpdateWithStart(update, {
    args,
    ...(updateId ? { updateId } : {}),
    startWorkflowOperation: new WithStartWorkflowOperation<ShopWorkflow>(SHOP_WORKFLOW_TYPE, startOptions(shopId, taskQueue)),
  });
}

export function updateSessionSettings(
  client: Client,
  taskQueue: string,
  shopId: string,
  change: SessionSettingsChange,
): Promise<SessionSettings> {
  return updateShop(client, taskQueue, shopId, updateSessionSettingsUpdate, [change]);
}

export function updateDistributionSettings(
  client: Client,
  taskQueue: string,
  shopId: string,
  change: DistributionSettingsChange,
): Promise<ShopView['distribution']> {
  return updateShop(client, taskQueue, shopId, updateDistributionSettingsUpdate, [change]);
}

export function updateShopTimeZone(
  client: Client,
  taskQueue: string,
  shopId: string,
  change: ShopTimeZoneChange,
): Promise<{ timeZone: string }> {
  return updateShop(client, taskQueue, shopId, updateShopTimeZoneUpdate, [change]);
}

/** `updateId` (from the caller's Idempotency-Key) makes a repeat join the first run rather than start a second. */
export function runDistributionNow(
  client: Client,
  taskQueue: string,
  shopId: string,
  requestedBy: string,
  updateId?: string,
): Promise<DistributionRun> {
  return updateShop(client, taskQueue, shopId, runDistributionNowUpdate, [{ requestedBy }], updateId);
}

/** docs/rules.md §3.6: an agent came online or got more capacity; the shop run offers it pending messages. */
export async function notifyAgentAvailable(client: Client, taskQueue: string, shopId: string, agentId: string): Promise<void> {
  await client.workflow.signalWithStart<ShopWorkflow, [{ agentId: string }]>(SHOP_WORKFLOW_TYPE, {
    ...startOptions(shopId, taskQueue),
    signal: agentAvailableSignal,
    signalArgs: [{ agentId }],
  });
}

/** docs/rules.md §9.2: an agent went offline holding sessions; the shop run starts its grace timer. */
export async function notifyAgentLeft(
  client: Client,
  taskQueue: string,
  shopId: string,
  left: { agentId: string; since: string; graceMs: number },
): Promise<void> {
  await client.workflow.signalWithStart<ShopWorkflow, [typeof left]>(SHOP_WORKFLOW_TYPE, {
    ...startOptions(shopId, taskQueue),
    signal: agentLeftSignal,
    signalArgs: [left],
  });
}

/** The agent is back before its grace ended: the shop run cancels the timer. */
export async function notifyAgentReturned(client: Client, taskQueue: string, shopId: string, agentId: string, at?: string): Promise<void> {
  await client.workflow.signalWithStart<ShopWorkflow, [{ agentId: string; at?: string }]>(SHOP_WORKFLOW_TYPE, {
    ...startOptions(shopId, taskQueue),
    signal: agentReturnedSignal,
    signalArgs: [{ agentId, ...(at ? { at } : {}) }],
  });
}

export function queryShop(client: Client, shopId: string): Promise<ShopView> {
  return client.workflow.getHandle(shopWorkflowId(shopId)).query(shopStateQuery);
}
