/**
 * One long-running run per shop (id `shop:<shopId>`). It sleeps on a durable timer until the next
 * :00/:30 slot inside the shop's distribution windows (shop time zone), runs the distribution for
 * that slot, and loops. Settings changes arrive as updates, so the run's history shows who changed
 * what and when; validators reject bad input before it reaches history. It also owns the grace
 * period of every agent who went offline holding sessions (docs/rules.md §9.2): one named timer at a
 * time, the earliest of the next slot and the next grace end. Messages and types: contracts/shop.ts.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ShopActivities } from '../activities/shop';
import {
  agentAvailableSignal,
  agentLeftSignal,
  agentReturnedSignal,
  runDistributionNowUpdate,
  shopStateQuery,
  updateDistributionSettingsUpdate,
  updateSessionSettingsUpdate,
  updateShopTimeZoneUpdate,
  type LeftAgent,
  type SessionSettingsChange,
  type ShopState,
  type ShopView,
  type ShopWorkflowInput,
} from '../contracts/shop';
import { nextSlot, validateDistributionSettings, withinWindows } from '../domain/distribution';
import { validateSessionSettingsChange } from '../domain/session';
import { isValidTimeZone } from '../domain/time-zone';

export type { SessionSettingsChange, ShopState, ShopView } from '../contracts/shop';

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
      const saved = await acts.saveSessionSettings({
        shopId: input.shopId,
        buyerIdleMinutes: change.buyerIdleMinutes,
        ...(change.agentLeft !== undefined ? { agentLeft: change.agentLeft } : {}),
        ...(change.firstReplyMinutes !== undefined ? { firstReplyMinutes: change.firstReplyMinutes } : {}),
        changedBy: change.changedBy,
      });
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
        if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone))
          throw reject('invalid_time_zone', `unknown time zone ${String(timeZone)}`);
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
  // Signals may arrive before the state is loaded: they wait in this list until it is.
  const early: { left?: { agentId: string; since: string; graceMs: number }; returned?: { agentId: string; at?: string } }[] = [];
  const onLeft = (left: { agentId: string; since: string; graceMs: number }) => {
    const s = state!;
    const others = (s.leftAgents ?? []).filter((a) => a.agentId !== left.agentId);
    s.leftAgents = [...others, { agentId: left.agentId, since: left.since, dueAt: Date.parse(left.since) + Math.max(0, left.graceMs) }];
  };
  // A return cancels the leaves before it, not a later one that overtook it on the way.
  const onReturned = ({ agentId, at }: { agentId: string; at?: string }) => {
    const s = state!;
    s.leftAgents = (s.leftAgents ?? []).filter((a) => a.agentId !== agentId || (at !== undefined && Date.parse(a.since) > Date.parse(at)));
  };
  setHandler(agentLeftSignal, (left) => {
    if (state) onLeft(left);
    else early.push({ left });
    changes++;
  });
  setHandler(agentReturnedSignal, (returned) => {
    if (state) onReturned(returned);
    else early.push({ returned });
    changes++;
  });

  if (!state) {
    const loaded = await acts.loadShopSchedule({ shopId: input.shopId });
    state = {
      shopId: input.shopId,
      ...loaded,
      lastSlot: null,
      lastRun: null,
      runSeq: 0,
      pendingAgents: [],
      settingsChanges: 0,
      lastSessionSettings: null,
    };
  }
  const s = state;
  for (const e of early.splice(0)) {
    if (e.left) onLeft(e.left);
    if (e.returned) onReturned(e.returned);
  }

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
    // Grace periods that have run out: the agent is still away, its sessions go to others.
    for (const left of (s.leftAgents ?? []).filter((a) => a.dueAt <= Date.now())) {
      await acts.rerouteSessionsOfAgentWhoLeft({
        shopId: s.shopId,
        agentId: left.agentId,
        since: left.since,
        at: new Date(Date.now()).toISOString(),
      });
      // A return or a new leave that arrived meanwhile replaced this entry: keep that one.
      s.leftAgents = (s.leftAgents ?? []).filter((a) => a !== left);
    }
    const slot = nextSlot(Math.max(Date.now(), (s.lastSlot ?? -1) + 1), s.distribution.settings, s.timeZone);
    const grace = (s.leftAgents ?? []).reduce<LeftAgent | null>((first, a) => (first === null || a.dueAt < first.dueAt ? a : first), null);
    const seen = changes;
    const woke = () => changes !== seen;
    if (grace !== null && (slot === null || grace.dueAt < slot)) {
      // Named for its rule in the Web UI; a return wakes the loop and cancels it.
      await condition(woke, Math.max(1, grace.dueAt - Date.now()), {
        summary: `agent-left grace · agent ${grace.agentId} · until ${new Date(grace.dueAt).toISOString()}`,
      });
    } else if (slot === null) {
      await condition(woke);
    } else if (
      !(await condition(woke, Math.max(1, slot - Date.now()), {
        // One timer sleeps to the earliest deadline; a grace due after the slot is named on it too.
        summary:
          `distribution slot · ${new Date(slot).toISOString()}` +
          (grace ? ` · then agent-left grace · agent ${grace.agentId} · until ${new Date(grace.dueAt).toISOString()}` : ''),
      }))
    ) {
      s.lastSlot = slot;
      await distribute('scheduled', slot);
    }
  }
}
