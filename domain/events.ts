/**
 * Events out (docs/rules.md §6): what the chat backend hears. One per change, written in the transaction of
 * that change; read by cursor, streamed (SSE) and delivered to webhooks in this one envelope.
 * Type names are a public contract: add types, never rename one.
 */
import type { CloseReason, SessionSettingsSnapshot } from './session';

export interface EventDataByType {
  'session.opened': {
    sessionId: string;
    buyerId: string;
    topic: string;
    wantsHuman: boolean;
    botEngaged: boolean;
    policy: string;
    settingsSnapshot: SessionSettingsSnapshot;
  };
  /** kind: live routing, queue drain, automatic (pool) or manual (pool) assignment. */
  'session.assigned': {
    sessionId: string;
    agentId: string;
    operator: string;
    reason: string;
    assignmentId: string;
    kind: 'live' | 'queue' | 'auto' | 'manual';
  };
  /** 转接: the session moved from one agent to another (operator: the key that asked; groupId when sent to a group). */
  'session.transferred': {
    sessionId: string;
    assignmentId: string;
    fromAgentId: string;
    toAgentId: string;
    groupId: string | null;
    note: string | null;
    operator: string;
    at: string;
  };
  /**
   * docs/rules.md §9.2, §9.3: the session left its agent (who went offline, or did not answer in time) and
   * went to another agent, the queue (with its place) or the offline pool.
   */
  'session.rerouted': {
    sessionId: string;
    fromAgentId: string;
    reason: 'agent_left' | 'no_first_reply';
    outcome: 'assigned' | 'queued' | 'offline';
    toAgentId: string | null;
    position: number | null;
    queuedAt: string | null;
    /** The assignment the session left. */
    fromAssignmentId: string;
    offlineMessageId: number | null;
  };
  /** position: 1 = served next among the shop's queued sessions. */
  'session.queued': { sessionId: string; topic: string; position: number; queuedAt: string };
  /** docs/rules.md §9.4: a session ahead left the queue; told for every place up to 10, then at 20, 50, 100, 200, 500, … */
  'session.queue_position_changed': { sessionId: string; position: number; queueLength: number };
  'session.closed': {
    sessionId: string;
    reason: CloseReason;
    closedAt: string;
    agentId: string | null;
    settingsSnapshot: SessionSettingsSnapshot;
    toOfflinePool: boolean;
  };
  'offline_message.created': {
    sessionId: string;
    offlineMessageId: number;
    origin: string;
    topic: string;
    wantsHuman: boolean;
    botEngaged: boolean;
  };
  'distribution.run.finished': {
    runId: number;
    trigger: string;
    outcome: 'succeeded' | 'failed';
    failureReason: string | null;
    eligibleCount: number;
    assignedCount: number;
    skippedCount: number;
    perAgent: Record<string, number>;
  };
  'agent.status_changed': { agentId: string; from: string; to: string };
}

export type EventType = keyof EventDataByType;

export const EVENT_TYPES: readonly EventType[] = [
  'session.opened',
  'session.assigned',
  'session.queued',
  'session.transferred',
  'session.rerouted',
  'session.queue_position_changed',
  'session.closed',
  'offline_message.created',
  'distribution.run.finished',
  'agent.status_changed',
];

export type NewEvent = {
  [T in EventType]: { type: T; sessionId?: string | null; occurredAt?: string; data: EventDataByType[T] };
}[EventType];

export function eventIdOf(globalId: number): string {
  return `evt_${globalId}`;
}

/** Events of one session keep their order on every channel; other events are ordered per agent or per shop. */
export function orderingKeyOf(e: { sessionId: string | null; type: string; data: { [k: string]: unknown } }): string {
  if (e.sessionId) return `session:${e.sessionId}`;
  if (e.type === 'agent.status_changed') return `agent:${String(e.data.agentId)}`;
  return 'shop';
}
