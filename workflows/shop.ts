/**
 * One long-running run per shop (id `shop:<shopId>`). Settings changes arrive here as updates, so
 * the run's history shows who changed what and when; validators reject bad input before it reaches
 * history. The offline-message distribution schedule runs in this workflow too.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ShopActivities } from '../activities/shop';
import { AGENT_REPLY_TIMEOUT_FIXED, validateBuyerIdleMinutes, type SessionSettings } from '../domain/session';

export interface SessionSettingsChange {
  buyerIdleMinutes: number;
  /** The merchant user making the change, recorded with the new version. */
  changedBy: string;
  /** Present only to be refused: the 6 h rule is the platform's (SPEC 1.3). */
  agentReplyTimeoutMinutes?: unknown;
}

export interface ShopWorkflowInput {
  shopId: string;
}

export interface ShopView {
  shopId: string;
  settingsChanges: number;
  lastSessionSettings: SessionSettings | null;
}

export const updateSessionSettingsUpdate = defineUpdate<SessionSettings, [SessionSettingsChange]>('updateSessionSettings');
export const shopStateQuery = defineQuery<ShopView>('shopState');

const acts = proxyActivities<ShopActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Same rule as the HTTP edge, repeated here because an update may come from any client. */
export function assertValidSessionSettingsChange(change: SessionSettingsChange): void {
  if (change?.agentReplyTimeoutMinutes !== undefined) {
    throw ApplicationFailure.create({ type: AGENT_REPLY_TIMEOUT_FIXED.code, message: AGENT_REPLY_TIMEOUT_FIXED.message, nonRetryable: true });
  }
  const violation = validateBuyerIdleMinutes(change?.buyerIdleMinutes);
  if (violation) throw ApplicationFailure.create({ type: violation.code, message: violation.message, nonRetryable: true });
  if (typeof change.changedBy !== 'string' || change.changedBy.length === 0) {
    throw ApplicationFailure.create({ type: 'invalid_request', message: 'changedBy is required', nonRetryable: true });
  }
}

export async function shopWorkflow(input: ShopWorkflowInput & { carried?: ShopView }): Promise<void> {
  const view: ShopView = input.carried ?? { shopId: input.shopId, settingsChanges: 0, lastSessionSettings: null };

  setHandler(shopStateQuery, () => view);
  setHandler(
    updateSessionSettingsUpdate,
    async (change) => {
      const saved = await acts.saveSessionSettings({ shopId: view.shopId, buyerIdleMinutes: change.buyerIdleMinutes, changedBy: change.changedBy });
      view.settingsChanges++;
      view.lastSessionSettings = saved;
      return saved;
    },
    { validator: assertValidSessionSettingsChange },
  );

  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof shopWorkflow>({ shopId: view.shopId, carried: view });
}
