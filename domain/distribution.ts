/**
 * Offline-message auto-distribution settings and schedule (docs/rules.md §3). Pure: used by the API edge,
 * the shop workflow (deterministic: Intl with the shop's zone) and the distribution activity.
 */
import type { RuleViolation } from './errors';
import { DISTRIBUTION_RUN_HARD_CAP, DISTRIBUTION_SLOT_MINUTES, MINUTE_MS, OFFLINE_MESSAGE_ELIGIBILITY_MS } from './limits';
import { isValidTimeZone } from './time-zone';

export type DistributionScope = 'human_requested' | 'all';

export type DistributionTarget =
  { kind: 'routing_rules' } | { kind: 'groups'; groupIds: string[] } | { kind: 'agents'; agentIds: string[] };

/** A time window in the shop's zone, "HH:MM" on a half hour; both ends fire; end < start crosses midnight. */
export interface TimeWindow {
  start: string;
  end: string;
}

export interface DistributionSettings {
  enabled: boolean;
  scope: DistributionScope;
  windows: TimeWindow[];
  target: DistributionTarget;
  /** Fewer online, not-suspended agents in the target → the run fails insufficient_online_agents. */
  minOnlineAgents: number;
  /** Average live sessions per online target agent above this → avg_pending_exceeded; null = no limit. */
  maxAvgPending: number | null;
  /** Run limit = online target agents × this, never above DISTRIBUTION_RUN_HARD_CAP. */
  perAgentCap: number;
}

export const DEFAULT_DISTRIBUTION_SETTINGS: DistributionSettings = {
  enabled: true,
  scope: 'human_requested',
  windows: [{ start: '00:00', end: '23:30' }],
  target: { kind: 'routing_rules' },
  minOnlineAgents: 1,
  maxAvgPending: null,
  perAgentCap: 10,
};

export type DistributionFailure = 'insufficient_online_agents' | 'avg_pending_exceeded' | 'nothing_eligible';

const HALF_HOUR = /^([01]\d|2[0-3]):(00|30)$/;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Every slot (minute of day) a window fires at, ends included. */
function slotsOfWindow(w: TimeWindow): number[] {
  const start = minutesOf(w.start);
  const end = minutesOf(w.end);
  const slots: number[] = [];
  for (let m = start; ; m = (m + DISTRIBUTION_SLOT_MINUTES) % (24 * 60)) {
    slots.push(m);
    if (m === end) return slots;
  }
}

export function inWindows(minuteOfDay: number, windows: TimeWindow[]): boolean {
  return windows.some((w) => {
    const s = minutesOf(w.start);
    const e = minutesOf(w.end);
    return s <= e ? minuteOfDay >= s && minuteOfDay <= e : minuteOfDay >= s || minuteOfDay <= e;
  });
}

const bad = (code: string, message: string): RuleViolation => ({ code, message });

/** Shape and range rules (existence of groups and agents is checked against Postgres separately). */
export function validateDistributionSettings(s: DistributionSettings, timeZone?: string): RuleViolation | null {
  if (timeZone !== undefined && !isValidTimeZone(timeZone))
    return bad('invalid_time_zone', `unknown time zone ${JSON.stringify(timeZone)}`);
  if (typeof s.enabled !== 'boolean') return bad('invalid_distribution_settings', 'enabled must be true or false');
  if (s.scope !== 'human_requested' && s.scope !== 'all') return bad('invalid_scope', 'scope must be human_requested or all');
  if (!Array.isArray(s.windows) || s.windows.length === 0) return bad('invalid_windows', 'at least one time window is required');
  for (const w of s.windows) {
    if (!HALF_HOUR.test(w?.start ?? '') || !HALF_HOUR.test(w?.end ?? '')) {
      return bad('window_not_on_half_hour', `window ${JSON.stringify(w)}: start and end must be HH:00 or HH:30`);
    }
  }
  const seen = new Map<number, number>();
  for (const [i, w] of s.windows.entries()) {
    for (const m of slotsOfWindow(w)) {
      if (seen.has(m)) {
        const at = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
        return bad('windows_overlap', `windows ${seen.get(m)! + 1} and ${i + 1} overlap at ${at}`);
      }
      seen.set(m, i);
    }
  }
  const t = s.target;
  if (
    t?.kind === 'groups'
      ? !Array.isArray(t.groupIds) || t.groupIds.length === 0
      : t?.kind === 'agents'
        ? !Array.isArray(t.agentIds) || t.agentIds.length === 0
        : t?.kind !== 'routing_rules'
  ) {
    return bad('invalid_target', 'target is {kind: routing_rules}, {kind: groups, groupIds: [...]} or {kind: agents, agentIds: [...]}');
  }
  for (const [name, value, allowNull] of [
    ['minOnlineAgents', s.minOnlineAgents, false],
    ['maxAvgPending', s.maxAvgPending, true],
    ['perAgentCap', s.perAgentCap, false],
  ] as const) {
    if (value === null && allowNull) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (name !== 'maxAvgPending' && !Number.isInteger(value))) {
      return bad('invalid_number', `${name} must be a ${name === 'maxAvgPending' ? 'non-negative number or null' : 'whole number ≥ 0'}`);
    }
  }
  if (s.perAgentCap > DISTRIBUTION_RUN_HARD_CAP) return bad('invalid_number', `perAgentCap must be at most ${DISTRIBUTION_RUN_HARD_CAP}`);
  return null;
}

/** Run limit (docs/rules.md §3.2): online not-suspended agents in the target × cap, never above the hard cap. */
export function runLimit(onlineAgents: number, perAgentCap: number): number {
  return Math.min(onlineAgents * perAgentCap, DISTRIBUTION_RUN_HARD_CAP);
}

/** A target agent as the planner needs it, least loaded first (the order assignments spread in). */
export interface PlannedAgent {
  id: string;
  status: string;
  activeSessions: number;
  capacity: number;
}

export interface RunPlan {
  /** Online, not-suspended agents of the target (what the conditions count). */
  onlineAgents: number;
  avgPending: number | null;
  runLimit: number;
  /** The agents messages may go to: the target's online ones, or the one that became available. */
  assignees: PlannedAgent[];
  /** Set when the run assigns nothing: a failed condition, or no seat for an agent-available run. */
  failure: DistributionFailure | null;
}

/**
 * Decides a run before any message is looked at (docs/rules.md §3.2, §3.6): who may receive, the
 * conditions, and the limit. A scheduled or manual run checks the minimum online and the average
 * pending and takes online × cap (never above DISTRIBUTION_RUN_HARD_CAP); an agent-available run
 * fills that one agent's free seats, within the same hard cap, and checks no condition.
 */
export function planRun(req: { trigger: string; agentId?: string; settings: DistributionSettings; target: PlannedAgent[] }): RunPlan {
  const online = req.target.filter((a) => a.status === 'online');
  const avgPending = online.length ? online.reduce((n, a) => n + a.activeSessions, 0) / online.length : null;
  if (req.trigger === 'agent_available') {
    const assignees = online.filter((a) => a.id === req.agentId);
    const free = assignees[0] ? Math.max(0, assignees[0].capacity - assignees[0].activeSessions) : 0;
    const limit = Math.min(free, DISTRIBUTION_RUN_HARD_CAP);
    return { onlineAgents: online.length, avgPending: null, runLimit: limit, assignees, failure: limit === 0 ? 'nothing_eligible' : null };
  }
  const base = { onlineAgents: online.length, avgPending, assignees: online };
  if (online.length === 0 || online.length < req.settings.minOnlineAgents)
    return { ...base, runLimit: 0, failure: 'insufficient_online_agents' };
  if (req.settings.maxAvgPending !== null && avgPending! > req.settings.maxAvgPending)
    return { ...base, runLimit: 0, failure: 'avg_pending_exceeded' };
  return { ...base, runLimit: runLimit(online.length, req.settings.perAgentCap), failure: null };
}

/** The oldest pool message a run may take (docs/rules.md §3.2): the last 24 h before the run. */
export function eligibleSince(atIso: string): string {
  return new Date(Date.parse(atIso) - OFFLINE_MESSAGE_ELIGIBILITY_MS).toISOString();
}

/** Why a message is skipped instead of assigned (docs/rules.md §3.13): its buyer reached a human after leaving it. */
export const SKIP_BUYER_REACHED_HUMAN = 'buyer_reached_human';

/**
 * A run's outcome (docs/rules.md §3.17): a failed condition fails it; finding nothing to assign is a run that did its job
 * (it succeeded, and eligible 0 says why), in a dry run as in a real one.
 */
export function runOutcome(failure: DistributionFailure | null): {
  outcome: 'succeeded' | 'failed';
  failureReason: DistributionFailure | null;
} {
  return failure && failure !== 'nothing_eligible'
    ? { outcome: 'failed', failureReason: failure }
    : { outcome: 'succeeded', failureReason: null };
}

/**
 * Spreads the picked messages (newest first, already within the run limit) over each topic's agents
 * round-robin, in the candidates' order (least loaded first): the k-th message of a topic goes to its
 * agent k mod n (docs/rules.md §3.16).
 */
export function spreadRoundRobin(
  picked: { id: number; topic: string }[],
  candidates: Map<string, string[]>,
): { id: number; agentId: string }[] {
  const taken = new Map<string, number>();
  return picked.map((m) => {
    const agents = candidates.get(m.topic)!;
    const k = taken.get(m.topic) ?? 0;
    taken.set(m.topic, k + 1);
    return { id: m.id, agentId: agents[k % agents.length] };
  });
}

/**
 * Who may take messages of each topic (docs/rules.md §2.3, §3.2): for a routing-rules target the
 * agents of the groups whose scope lists it — any agent when no group lists it, as in live routing —;
 * for a groups or agents target, every assignee. Topics nobody may take are left out.
 */
export function candidatesByTopic(
  settings: DistributionSettings,
  assignees: string[],
  topics: string[],
  groups: { id: string; scopes: string[] }[],
  members: { group_id: string; agent_id: string }[],
): Map<string, string[]> {
  const byTopic = new Map<string, string[]>();
  for (const topic of topics) {
    if (settings.target.kind !== 'routing_rules') {
      byTopic.set(topic, assignees);
      continue;
    }
    const covering = new Set(groups.filter((g) => g.scopes.includes(topic)).map((g) => g.id));
    const allowed = covering.size === 0 ? null : new Set(members.filter((m) => covering.has(m.group_id)).map((m) => m.agent_id));
    const agents = assignees.filter((id) => allowed === null || allowed.has(id));
    if (agents.length > 0) byTopic.set(topic, agents);
  }
  return byTopic;
}

interface LocalTime {
  minuteOfDay: number;
  second: number;
  date: string;
}

/** The shop-local date (YYYY-MM-DD) of an instant. */
export const localDateOf = (epochMs: number, timeZone: string): string => localTime(epochMs, timeZone).date;

const formatters = new Map<string, Intl.DateTimeFormat>();
function localTime(epochMs: number, timeZone: string): LocalTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return {
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

/**
 * Whether `epochMs` lies inside a window, for event-driven runs (docs/rules.md §3.6, §3.11): a window covers from its
 * first slot until the next slot after its last one, so 00:00–23:30 covers the whole day.
 */
export function withinWindows(epochMs: number, settings: Pick<DistributionSettings, 'enabled' | 'windows'>, timeZone: string): boolean {
  if (!settings.enabled) return false;
  const { minuteOfDay } = localTime(epochMs, timeZone);
  const slotStart = minuteOfDay - (minuteOfDay % DISTRIBUTION_SLOT_MINUTES);
  return inWindows(slotStart, settings.windows);
}

/** The shop-local calendar day of an instant (daily counts are per shop day). */
export function shopDay(epochMs: number, timeZone: string): string {
  return localTime(epochMs, timeZone).date;
}

/**
 * The first :00/:30 slot in the shop's zone at or after `fromMs` that lies inside a window, or null
 * when distribution is off. Steps a half hour at a time and re-reads local time each step, so zones
 * with :30/:45 offsets and DST changes stay on local half hours.
 */
export function nextSlot(fromMs: number, settings: Pick<DistributionSettings, 'enabled' | 'windows'>, timeZone: string): number | null {
  if (!settings.enabled || settings.windows.length === 0) return null;
  // Align to the next local :00/:30 (local minutes and seconds; sub-second part dropped).
  const start = Math.ceil(fromMs / 1000) * 1000;
  const t0 = localTime(start, timeZone);
  const secondsIntoSlot = (t0.minuteOfDay % DISTRIBUTION_SLOT_MINUTES) * 60 + t0.second;
  let candidate = secondsIntoSlot === 0 ? start : start + (DISTRIBUTION_SLOT_MINUTES * 60 - secondsIntoSlot) * 1000;
  // Two days of half hours covers every window pattern plus a DST shift.
  for (let i = 0; i < 4 * 24 + 4; i++) {
    const local = localTime(candidate, timeZone);
    if (local.minuteOfDay % DISTRIBUTION_SLOT_MINUTES !== 0 || local.second !== 0) {
      // A DST change moved the local clock off the half hour: realign from here.
      const off = (local.minuteOfDay % DISTRIBUTION_SLOT_MINUTES) * 60 + local.second;
      candidate += (DISTRIBUTION_SLOT_MINUTES * 60 - off) * 1000;
      continue;
    }
    if (inWindows(local.minuteOfDay, settings.windows)) return candidate;
    candidate += DISTRIBUTION_SLOT_MINUTES * MINUTE_MS;
  }
  return null;
}
