import {
  AGENT_LEFT_GRACE_MINUTES_MAX,
  AGENT_LEFT_GRACE_MINUTES_MIN,
  AGENT_REPLY_TIMEOUT_MS,
  BUYER_IDLE_MINUTES_MAX,
  BUYER_IDLE_MINUTES_MIN,
  FIRST_REPLY_MINUTES_MAX,
  FIRST_REPLY_MINUTES_MIN,
  LEGACY_AGENT_REPLY_TIMEOUT_MS,
  MINUTE_MS,
  QUEUE_TIMEOUT_MS,
} from './limits';
import type { RuleViolation } from './errors';

export const SESSION_POLICIES = ['current', 'legacy'] as const;
export type SessionPolicy = (typeof SESSION_POLICIES)[number];

/** open: bot or unassigned; queued: waiting for a free agent; active: an agent holds it; offline: in the offline-message pool. */
export const SESSION_STATUSES = ['open', 'queued', 'active', 'offline', 'closed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** The three a timer causes come first (see TIMER_REASONS); left_queue: the buyer gave up waiting, the request moved to the offline pool. */
export const CLOSE_REASONS = [
  'agent_reply_timeout',
  'buyer_idle_timeout',
  'queue_timeout',
  'closed_by_agent',
  'closed_by_buyer',
  'left_queue',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** The closes a timer can cause. */
export const TIMER_REASONS = ['agent_reply_timeout', 'buyer_idle_timeout', 'queue_timeout'] as const satisfies readonly CloseReason[];
export type TimerReason = (typeof TIMER_REASONS)[number];

/** online: receives new sessions; suspended (小休): on a break; offline. */
export const AGENT_STATUSES = ['online', 'suspended', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Where an offline message came from: routing found nobody online, the queue timed out or was left, only a bot ever talked, or a re-route (docs/rules.md §9.2, §9.3) found nobody. */
export const OFFLINE_ORIGINS = ['no_agent_online', 'queue_timeout', 'left_queue', 'bot_only', 'agent_left', 'no_first_reply'] as const;
export type OfflineOrigin = (typeof OFFLINE_ORIGINS)[number];

/** Why a session was re-routed away from its agent (docs/rules.md §9.2, §9.3). */
export const REROUTE_REASONS = ['agent_left', 'no_first_reply'] as const;
export type RerouteReason = (typeof REROUTE_REASONS)[number];

/** docs/rules.md §9.2: what happens to an offline agent's sessions. keep: nothing; reroute: after graceMinutes. */
export const AGENT_LEFT_MODES = ['keep', 'reroute'] as const;
export interface AgentLeftPolicy {
  mode: (typeof AGENT_LEFT_MODES)[number];
  graceMinutes: number;
}

/** Whose message the session is waiting for. */
export type Turn = 'agent' | 'buyer';

/** The settings a session copied when it started and keeps until it closes (docs/rules.md §1.2). */
export interface SessionSettingsSnapshot {
  settingsVersion: number;
  policy: SessionPolicy;
  buyerIdleMinutes: number;
  agentReplyTimeoutMs: number;
  queueTimeoutMs: number;
  /** docs/rules.md §9.3: re-route when the agent has not answered this long after an assignment; absent or null: off. */
  firstReplyMinutes?: number | null;
}

export interface SessionSettings {
  version: number;
  buyerIdleMinutes: number;
  agentLeft: AgentLeftPolicy;
  firstReplyMinutes: number | null;
  /** Shown to merchants, never stored per shop: a platform rule. */
  agentReplyTimeoutMinutes: number;
  changedBy: string;
  changedAt: string;
}

export interface StartSessionRequest {
  shopId: string;
  sessionId: string;
  buyerId: string;
  topic: string;
  wantsHuman: boolean;
  botEngaged: boolean;
  policy: SessionPolicy;
}

export function snapshotFor(settingsVersion: number, buyerIdleMinutes: number, policy: SessionPolicy): SessionSettingsSnapshot {
  return {
    settingsVersion,
    policy,
    buyerIdleMinutes,
    agentReplyTimeoutMs: policy === 'legacy' ? LEGACY_AGENT_REPLY_TIMEOUT_MS : AGENT_REPLY_TIMEOUT_MS,
    queueTimeoutMs: QUEUE_TIMEOUT_MS,
  };
}

export function buyerIdleTimeoutMs(snapshot: SessionSettingsSnapshot): number {
  return snapshot.buyerIdleMinutes * MINUTE_MS;
}

export function validateBuyerIdleMinutes(value: unknown): RuleViolation | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < BUYER_IDLE_MINUTES_MIN || value > BUYER_IDLE_MINUTES_MAX) {
    return {
      code: 'invalid_buyer_idle_minutes',
      message: `buyerIdleMinutes must be a whole number of minutes from ${BUYER_IDLE_MINUTES_MIN} to ${BUYER_IDLE_MINUTES_MAX}, got ${JSON.stringify(value)}`,
    };
  }
  return null;
}

export const AGENT_REPLY_TIMEOUT_FIXED: RuleViolation = {
  code: 'agent_reply_timeout_not_configurable',
  message: `the agent-reply timeout is a platform rule fixed at ${AGENT_REPLY_TIMEOUT_MS / MINUTE_MS} minutes and cannot be changed`,
};

const wholeIn = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** docs/rules.md §9.2: keep, or re-route after 0–60 whole minutes. */
export function validateAgentLeftPolicy(value: unknown): RuleViolation | null {
  const p = value as Partial<AgentLeftPolicy> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    !AGENT_LEFT_MODES.includes(p.mode as AgentLeftPolicy['mode']) ||
    !wholeIn(p.graceMinutes, AGENT_LEFT_GRACE_MINUTES_MIN, AGENT_LEFT_GRACE_MINUTES_MAX)
  ) {
    return {
      code: 'invalid_agent_left_policy',
      message: `agentLeft must be {mode: keep | reroute, graceMinutes: whole minutes ${AGENT_LEFT_GRACE_MINUTES_MIN}–${AGENT_LEFT_GRACE_MINUTES_MAX}}, got ${JSON.stringify(value)}`,
    };
  }
  return null;
}

/** docs/rules.md §9.3: null (off) or 1–60 whole minutes. */
export function validateFirstReplyMinutes(value: unknown): RuleViolation | null {
  if (value === null || wholeIn(value, FIRST_REPLY_MINUTES_MIN, FIRST_REPLY_MINUTES_MAX)) return null;
  return {
    code: 'invalid_first_reply_minutes',
    message: `firstReplyMinutes must be null (off) or whole minutes ${FIRST_REPLY_MINUTES_MIN}–${FIRST_REPLY_MINUTES_MAX}, got ${JSON.stringify(value)}`,
  };
}

/** A merchant's session-settings change: the 6 h rule is not theirs to set; every other field in range. */
export function validateSessionSettingsChange(change: {
  buyerIdleMinutes?: unknown;
  agentReplyTimeoutMinutes?: unknown;
  agentLeft?: unknown;
  firstReplyMinutes?: unknown;
}): RuleViolation | null {
  if (change?.agentReplyTimeoutMinutes !== undefined) return AGENT_REPLY_TIMEOUT_FIXED;
  return (
    validateBuyerIdleMinutes(change?.buyerIdleMinutes) ??
    (change.agentLeft !== undefined ? validateAgentLeftPolicy(change.agentLeft) : null) ??
    (change.firstReplyMinutes !== undefined ? validateFirstReplyMinutes(change.firstReplyMinutes) : null)
  );
}
