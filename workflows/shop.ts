/**
 * One long-running run per shop (id `shop:<shopId>`). It sleeps on a durable timer until the next
 * :00/:30 slot inside the shop's distribution windows (shop time zone), runs the distribution for
 * that slot, and loops. Settings changes arrive as updates, so the run's history shows who changed
 * what and when; validators reject bad input before it reaches history.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ShopActivities } from '../activities/shop';
import type { DistributionRun } from '../db/repositories/distribution';
import { nextSlot, validateDistributionSettings, withinWindows, type DistributionSettings } from '../domain/distribution';
import { validateSessionSettingsChange, type SessionSettings } from '../domain/session';
import { isValidTimeZone } from '../domain/time-zone';

export interface SessionSettingsChange {
  buyerIdleMinutes: number;
  /** The merchant user making the change, recorded with the new version. */
  changedBy: string;
  /** Present only to be refused: the 6 h rule is the platform's (SPEC 1.3). */
  agentReplyTimeoutMinutes?: unknown;
}

export interface DistributionSettingsChange {
  settings: DistributionSettings;
  changedBy: string;
}

export interface RunNowRequest {
  requestedBy: string;
}

export interface ShopWorkflowInput {
  shopId: string;
}

/** Plain JSON: carried through continue-as-new. */
export interface ShopState {
  shopId: string;
  timeZone: string;
  distribution: { version: number; settings: DistributionSettings };
  /** The last slot that ran (epoch ms), so the next one is strictly later. */
  lastSlot: number | null;
  lastRun: DistributionRun | null;
  /** Numbers run-now and agent-available runs of this workflow run, for their idempotency keys. */
  runSeq: number;
  pendingAgents: string[];
  settingsChanges: number;
  lastSessionSettings: SessionSettings | null;
}

export interface ShopTimeZoneChange {
  timeZone: string;
  changedBy: string;
}

export interface ShopView extends ShopState {
  nextSlot: string | null;
}

export const updateSessionSettingsUpdate = defineUpdate<SessionSettings, [SessionSettingsChange]>('updateSessionSettings');
export const updateDistributionSettingsUpdate = defineUpdate<ShopView['distribution'], [DistributionSettingsChange]>('updateDistributionSettings');
export const runDistributionNowUpdate = defineUpdate<DistributionRun, [RunNowRequest]>('runDistributionNow');
/** The shop moved (or mis-set its zone): windows and shop days follow the new zone from now on. */
export const updateShopTimeZoneUpdate = defineUpdate<{ timeZone: string }, [ShopTimeZoneChange]>('updateShopTimeZone');
export const agentAvailableSignal = defineSignal<[{ agentId: string }]>('agentAvailable');
export const shopStateQuery = defineQuery<ShopView>('shopState');

const acts = proxyActivities<ShopActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DomainError'] },
});

const reject = (code: string, message: string) => ApplicationFailure.create({ type: code, message, nonRetryable: true });

/** Same rule as the HTTP edge, repeated here because an update may come from any client. */
export function assertValidSessionSettingsChange(change: SessionSettingsChange): void {
  const violation = validateSessionSettingsChange(change);
  if (violation) throw reject(violation.code, violation.message);
  if (typeof change.changedBy !== 'string' || change.changedBy.length === 0) throw reject('invalid_request', 'changedBy is required');
}

/** A rule an activity checked against Postgres (e.g. unknown_groups) fails the update with its own code. */
function domainFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable && err.cause.type) {
    return reject(err.cause.type, err.cause.message);
  }
  return err;
}

export async function shopWorkflow(input: ShopWorkflowInput & { carried?: ShopState }): Promise<void> {
  let state: ShopState | null = input.carried ?? null;
  let changes = 0;

  const view = (): ShopView => {
    if (!state) throw reject('shop_loading', 'the shop run is still loading its settings');
    const slot = nextSlot(Math.max(Date.now(), (state.lastSlot ?? -1) + 1), state.distribution.settings, state.timeZone);
    return { ...state, nextSlot: slot === null ? null : new Date(slot).toISOString() };
  };

  const distribute = async (trigger: 'scheduled' | 'manual' | 'agent_available', slot: number | null, agentId?: string) => {
    const s = state!;
    const slotIso = slot === null ? null : new Date(slot).toISOString();
    const run = await acts.distributeOfflineMessages({
      shopId: s.shopId,
      trigger,
      slot: slotIso,
      runKey: slotIso ? `slot:${slotIso}` : `${workflowInfo().runId}:${++s.runSeq}`,
      at: new Date(slot ?? Date.now()).toISOString(),
      settings: s.distribution.settings,
      settingsVersion: s.distribution.version,
      agentId,
    });
    s.lastRun = run;
    return run;
  };

  setHandler(shopStateQuery, view);
  setHandler(
    updateSessionSettingsUpdate,
    async (change) => {
      const saved = await acts.saveSessionSettings({ shopId: input.shopId, buyerIdleMinutes: change.buyerIdleMinutes, changedBy: change.changedBy });
      await condition(() => state !== null);
      state!.settingsChanges++;
      state!.lastSessionSettings = saved;
      return saved;
    },
    { validator: assertValidSessionSettingsChange },
  );
  setHandler(
    updateDistributionSettingsUpdate,
    async ({ settings, changedBy }) => {
      const saved = await acts.saveDistributionSettings({ shopId: input.shopId, settings, changedBy }).catch((err) => {
        throw domainFailure(err);
      });
      await condition(() => state !== null);
      state!.distribution = { version: saved.version, settings: saved.settings };
      state!.settingsChanges++;
      changes++;
      return state!.distribution;
    },
    {
      validator: ({ settings, changedBy }) => {
        const violation = validateDistributionSettings(settings);
        if (violation) throw reject(violation.code, violation.message);
        if (typeof changedBy !== 'string' || changedBy.length === 0) throw reject('invalid_request', 'changedBy is required');
      },
    },
  );
  setHandler(
    updateShopTimeZoneUpdate,
    async ({ timeZone, changedBy }) => {
      await acts.saveShopTimeZone({ shopId: input.shopId, timeZone, changedBy });
      await condition(() => state !== null);
      state!.timeZone = timeZone;
      state!.settingsChanges++;
      changes++;
      return { timeZone };
    },
    {
      validator: ({ timeZone, changedBy }) => {
        if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone)) throw reject('invalid_time_zone', `unknown time zone ${String(timeZone)}`);
        if (typeof changedBy !== 'string' || changedBy.length === 0) throw reject('invalid_request', 'changedBy is required');
      },
    },
  );
  setHandler(runDistributionNowUpdate, async () => {
    await condition(() => state !== null);
    return distribute('manual', null);
  });
  setHandler(agentAvailableSignal, ({ agentId }) => {
    if (state && !state.pendingAgents.includes(agentId)) state.pendingAgents.push(agentId);
    changes++;
  });

  if (!state) {
    const loaded = await acts.loadShopSchedule({ shopId: input.shopId });
    state = { shopId: input.shopId, ...loaded, lastSlot: null, lastRun: null, runSeq: 0, pendingAgents: [], settingsChanges: 0, lastSessionSettings: null };
  }
  const s = state;

  for (;;) {
    while (s.pendingAgents.length > 0) {
      const agentId = s.pendingAgents[0];
      // Outside the merchant's windows the event waits for nothing: the next slot covers it.
      if (withinWindows(Date.now(), s.distribution.settings, s.timeZone)) await distribute('agent_available', null, agentId);
      s.pendingAgents.shift();
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof shopWorkflow>({ shopId: s.shopId, carried: s });
    }
    const slot = nextSlot(Math.max(Date.now(), (s.lastSlot ?? -1) + 1), s.distribution.settings, s.timeZone);
    const seen = changes;
    const woke = () => changes !== seen;
    if (slot === null) {
      await condition(woke);
    } else if (!(await condition(woke, Math.max(1, slot - Date.now())))) {
      s.lastSlot = slot;
      await distribute('scheduled', slot);
    }
  }
}
