/**
 * The shop run's public contract: its workflow type, input, carried state, messages (updates,
 * signals, query) and view. The API, the outbox sender, scripts and tests import this, never the
 * workflow code. Wire names are permanent: renaming one breaks running shop runs.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DistributionRun } from './shapes';
import type { DistributionSettings } from '../domain/distribution';
import type { AgentLeftPolicy, SessionSettings } from '../domain/session';

/** The registered workflow type (the exported function's name in workflows/). */
export const SHOP_WORKFLOW_TYPE = 'shopWorkflow';

export interface SessionSettingsChange {
  buyerIdleMinutes: number;
  /** Omitted: the version in force is kept (docs/rules.md §9.2). */
  agentLeft?: AgentLeftPolicy;
  /** Omitted: kept; null: off (docs/rules.md §9.3). */
  firstReplyMinutes?: number | null;
  /** The merchant user making the change, recorded with the new version. */
  changedBy: string;
  /** Present only to be refused: the 6 h rule is the platform's (docs/rules.md §1.3). */
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

/** An agent who went offline holding sessions, waiting out the shop's grace period (docs/rules.md §9.2). */
export interface LeftAgent {
  agentId: string;
  /** When the agent went offline (its status_changed_at): a later return or leave supersedes it. */
  since: string;
  /** Epoch ms when its sessions are re-routed. */
  dueAt: number;
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
  /** Absent in runs carried from before handoffs. */
  leftAgents?: LeftAgent[];
}

export interface ShopTimeZoneChange {
  timeZone: string;
  changedBy: string;
}

export interface ShopView extends ShopState {
  nextSlot: string | null;
}

/** The workflow's signature, for typed client calls by type name. */
export type ShopWorkflow = (input: ShopWorkflowInput & { carried?: ShopState }) => Promise<void>;

export const updateSessionSettingsUpdate = defineUpdate<SessionSettings, [SessionSettingsChange]>('updateSessionSettings');
export const updateDistributionSettingsUpdate = defineUpdate<ShopView['distribution'], [DistributionSettingsChange]>(
  'updateDistributionSettings',
);
export const runDistributionNowUpdate = defineUpdate<DistributionRun, [RunNowRequest]>('runDistributionNow');
/** The shop moved (or mis-set its zone): windows and shop days follow the new zone from now on. */
export const updateShopTimeZoneUpdate = defineUpdate<{ timeZone: string }, [ShopTimeZoneChange]>('updateShopTimeZone');
export const agentAvailableSignal = defineSignal<[{ agentId: string }]>('agentAvailable');
/** An agent went offline holding sessions; the shop re-routes them after graceMs unless it returns. */
export const agentLeftSignal = defineSignal<[{ agentId: string; since: string; graceMs: number }]>('agentLeft');
/** The agent is back (online or 小休): its grace timer is cancelled, it keeps its sessions. */
export const agentReturnedSignal = defineSignal<[{ agentId: string; at?: string }]>('agentReturned');
export const shopStateQuery = defineQuery<ShopView>('shopState');
