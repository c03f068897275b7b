/**
 * The conversation run's public contract: its workflow type, input, messages (signals, updates,
 * query) and the view it answers with. The API, the outbox sender, scripts and tests import this,
 * never the workflow code. Wire names are permanent: renaming one breaks running sessions.
 */
import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { AgentAssignment, AgentTransfer, ConversationState, SessionReroute } from '../domain/conversation-machine';
import type { ConversationView, SessionRecord } from './shapes';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../domain/session';
import { committedAtOf } from '../domain/assignment';
import { nextDeadline } from '../domain/session-timers';
import { firstReplyAt } from '../domain/conversation-machine';

export type { AgentAssignment, AgentTransfer, AssignmentEvent, ConversationState, SessionReroute } from '../domain/conversation-machine';

/**
 * What buyers wait, observed by the run and recorded by the worker (infra/worker-metrics.ts) outside
 * the sandbox: the SDK's own workflow meter adds camelCase labels Prometheus's linter refuses.
 */
export type WaitMetric = 'first_response_seconds' | 'queue_wait_seconds';
export interface ServiceMetricsSinks extends Sinks {
  serviceMetrics: { observe(metric: WaitMetric, seconds: number): void };
}

/** The registered workflow type (the exported function's name in workflows/). */
export const CONVERSATION_WORKFLOW_TYPE = 'conversationWorkflow';

export interface BuyerMessage {
  /** The chat backend's message id; a re-sent report with the same id is ignored. */
  messageId?: string;
}
export interface AgentMessage {
  messageId?: string;
  agentId?: string;
}
export interface CloseRequest {
  by: 'agent' | 'buyer';
}

/** The run's view of the session; its schema (and so this type) is contracts/shapes.ts. */
export type { ConversationView };

/**
 * start: a new session. carried: the same run continued as new. resume: the session's request waited
 * in the offline-message pool and was assigned; this run starts with the agentAssigned signal.
 */
export type ConversationInput =
  | { start: StartSessionRequest; carried?: undefined; resume?: undefined }
  | { carried: ConversationState; start?: undefined; resume?: undefined }
  | {
      resume: { request: StartSessionRequest; snapshot: SessionSettingsSnapshot; messageCount?: number };
      start?: undefined;
      carried?: undefined;
    };

/** The workflow's signature, for typed client calls by type name. */
export type ConversationWorkflow = (input: ConversationInput) => Promise<ConversationView>;

export const buyerMessageSignal = defineSignal<[BuyerMessage]>('buyerMessage');
export const agentMessageSignal = defineSignal<[AgentMessage]>('agentMessage');
export const humanRequestedSignal = defineSignal<[]>('humanRequested');
/** Sent by Postgres-side assignment (queue drain, pool distribution) through the outbox. */
export const agentAssignedSignal = defineSignal<[AgentAssignment]>('agentAssigned');
/** Sent through the outbox when a transfer (转接) commits: the new agent; the timers keep running. */
export const agentTransferredSignal = defineSignal<[AgentTransfer]>('agentTransferred');
/** Sent through the outbox when a re-route (docs/rules.md §9.2, §9.3) commits: where the session went. */
export const sessionReroutedSignal = defineSignal<[SessionReroute]>('sessionRerouted');
export const closeSessionUpdate = defineUpdate<ConversationView, [CloseRequest]>('closeSession');
export const leaveQueueUpdate = defineUpdate<ConversationView, []>('leaveQueue');
/**
 * Completes once the session is recorded with its settings snapshot and, when the buyer asked for a
 * human, routed (assigned, queued or offline). The start call waits on it, so what it returns is settled.
 */
export const sessionOpenedUpdate = defineUpdate<OpenedSession, []>('sessionOpened');

/**
 * What the start call gets: the run's view and, when this very start queued the session, its place
 * then (1 = served next). A repeated start joining the run gets no place: the caller looks it up.
 */
export type OpenedSession = ConversationView & { queuePosition?: number };
export const sessionStateQuery = defineQuery<ConversationView>('sessionState');
/** 转人工 that answers once routed (assigned, queued with its place, or offline). */
export const requestHumanUpdate = defineUpdate<ConversationView, []>('requestHuman');

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** What the run answers with (query sessionState, every update, its result). */
export function viewOf(s: ConversationState): ConversationView {
  const deadline = s.snapshot ? nextDeadline({ ...s, snapshot: s.snapshot }) : null;
  return {
    shopId: s.request.shopId,
    sessionId: s.request.sessionId,
    buyerId: s.request.buyerId,
    topic: s.request.topic,
    wantsHuman: s.request.wantsHuman,
    botEngaged: s.request.botEngaged,
    policy: s.request.policy,
    status: s.status,
    agentId: s.agentId,
    turn: s.turn,
    snapshot: s.snapshot,
    nextDeadline: deadline ? { at: new Date(deadline.at).toISOString(), reason: deadline.reason } : null,
    firstReplyAt: iso(firstReplyAt(s)),
    queuedAt: iso(s.queuedAt),
    startedAt: new Date(s.startedAt).toISOString(),
    lastBuyerMessageAt: iso(s.lastBuyerMessageAt),
    lastAgentMessageAt: iso(s.lastAgentMessageAt),
    messageCount: s.messageCount,
    assignments: s.assignments,
    closeReason: s.closeReason,
    closedAt: iso(s.closedAt),
  };
}

/** When an assignment was committed: its id ends with that time (domain/assignment.ts). */
export const assignedAtOf = (assignmentId: string): string => new Date(committedAtOf(assignmentId)).toISOString();

/**
 * The Session record as the run holds it: what the start call answers with, so the API need not
 * read the row back. The run's facts are the row's (times come from the same transactions);
 * only its message count runs ahead of the row, which records it at close.
 */
export function sessionRecordOf(view: ConversationView): SessionRecord {
  if (view.snapshot === null) throw new Error(`session ${view.sessionId} has no settings snapshot yet`);
  const latest = view.assignments.at(-1) ?? null;
  return {
    shopId: view.shopId,
    sessionId: view.sessionId,
    buyerId: view.buyerId,
    topic: view.topic,
    wantsHuman: view.wantsHuman,
    botEngaged: view.botEngaged,
    policy: view.policy,
    status: view.status,
    agentId: view.agentId,
    settingsSnapshot: view.snapshot,
    queuedAt: view.queuedAt,
    assignedAt: latest ? assignedAtOf(latest.assignmentId) : null,
    closeReason: view.closeReason,
    closedAt: view.closedAt,
    messageCount: view.messageCount,
    createdAt: view.startedAt,
    assignmentReason: latest?.reason ?? null,
  };
}

/** The run's one-line summary in the Temporal UI. */
export function conversationSummary(req: Pick<StartSessionRequest, 'shopId' | 'buyerId' | 'topic'>): string {
  return `session · shop ${req.shopId} · buyer ${req.buyerId} · topic ${req.topic}`;
}
