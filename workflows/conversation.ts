/**
 * One durable run per customer-service session (SPEC 1 and 2). Holds the settings snapshot, whose
 * turn it is and the one timer that runs; Postgres holds the cross-session facts (capacity, queue).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../activities/sessions';
import { CONVERSATION_MESSAGES_PER_RUN, OFFLINE_POOL_RUN_WAIT_MS } from '../domain/limits';
import type { CloseReason, SessionSettingsSnapshot, SessionStatus, StartSessionRequest, Turn } from '../domain/session';
import { nextDeadline } from '../domain/session-timers';
import { AGENT_ID_ATTR, CLOSE_REASON_ATTR, NEXT_DEADLINE_ATTR, SESSION_STATUS_ATTR } from '../domain/temporal-names';

// ---- Messages (wire names are permanent: renaming one breaks running sessions) ----

export interface BuyerMessage {
  /** The chat backend's message id; a re-sent report with the same id is ignored. */
  messageId?: string;
}
export interface AgentMessage {
  messageId?: string;
  agentId?: string;
}
/** Sent by Postgres-side assignment (queue drain, pool distribution) through the outbox. */
export interface AgentAssignment {
  assignmentId: string;
  agentId: string;
  operator: string;
  reason: string;
}
export interface CloseRequest {
  by: 'agent' | 'buyer';
}

export const buyerMessageSignal = defineSignal<[BuyerMessage]>('buyerMessage');
export const agentMessageSignal = defineSignal<[AgentMessage]>('agentMessage');
export const humanRequestedSignal = defineSignal<[]>('humanRequested');
export const agentAssignedSignal = defineSignal<[AgentAssignment]>('agentAssigned');
export const closeSessionUpdate = defineUpdate<ConversationView, [CloseRequest]>('closeSession');
export const leaveQueueUpdate = defineUpdate<ConversationView, []>('leaveQueue');
/**
 * Completes once the session is recorded with its settings snapshot and, when the buyer asked for a
 * human, routed (assigned, queued or offline). The start call waits on it, so what it returns is settled.
 */
export const sessionOpenedUpdate = defineUpdate<ConversationView, []>('sessionOpened');
export const sessionStateQuery = defineQuery<ConversationView>('sessionState');
/** 转人工 that answers once routed (assigned, queued with its place, or offline). */
export const requestHumanUpdate = defineUpdate<ConversationView, []>('requestHuman');

// ---- State ----

export interface AssignmentEvent extends AgentAssignment {
  at: string;
}

/** Plain JSON only: it is carried through continue-as-new. Times are epoch ms of the workflow clock. */
export interface ConversationState {
  request: StartSessionRequest;
  snapshot: SessionSettingsSnapshot | null;
  status: SessionStatus;
  agentId: string | null;
  turn: Turn;
  turnSince: number;
  queuedAt: number | null;
  startedAt: number;
  lastBuyerMessageAt: number | null;
  lastAgentMessageAt: number | null;
  messageCount: number;
  recentMessageIds: string[];
  assignments: AssignmentEvent[];
  closeReason: CloseReason | null;
  closedAt: number | null;
}

export interface ConversationView {
  shopId: string;
  sessionId: string;
  buyerId: string;
  topic: string;
  status: SessionStatus;
  agentId: string | null;
  turn: Turn;
  snapshot: SessionSettingsSnapshot | null;
  nextDeadline: { at: string; reason: CloseReason } | null;
  queuedAt: string | null;
  startedAt: string;
  lastBuyerMessageAt: string | null;
  lastAgentMessageAt: string | null;
  messageCount: number;
  assignments: AssignmentEvent[];
  closeReason: CloseReason | null;
  closedAt: string | null;
}

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

/** Dedup window for re-sent message reports, and how many assignment events the state keeps. */
const RECENT_MESSAGE_IDS = 64;
const ASSIGNMENTS_KEPT = 20;

const acts = proxyActivities<SessionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['DomainError'] },
});

/**
 * Opening runs as a local activity: one short idempotent transaction, finished inside the first
 * workflow task, so the start call answers without a second task round trip.
 */
const localActs = proxyLocalActivities<SessionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: ['DomainError'] },
});

/** Patch id: runs started before opening became a local activity replay the regular activity. */
const OPEN_AS_LOCAL_ACTIVITY = 'open-session-local-activity';
/** Patch id: runs from before CloseReason / NextDeadline were search attributes do not upsert them. */
const ON_CALL_SEARCH_ATTRIBUTES = 'close-reason-next-deadline-attributes';
/** Patch id: runs that went to the offline pool before this waited for nothing and ended. */
const AWAIT_POOL_ASSIGNMENT = 'await-pool-assignment';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function viewOf(s: ConversationState): ConversationView {
  const deadline = s.snapshot ? nextDeadline({ ...s, snapshot: s.snapshot }) : null;
  return {
    shopId: s.request.shopId,
    sessionId: s.request.sessionId,
    buyerId: s.request.buyerId,
    topic: s.request.topic,
    status: s.status,
    agentId: s.agentId,
    turn: s.turn,
    snapshot: s.snapshot,
    nextDeadline: deadline ? { at: new Date(deadline.at).toISOString(), reason: deadline.reason } : null,
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

function initialState(request: StartSessionRequest): ConversationState {
  const now = Date.now();
  // Opening a session is the buyer's first contact, so the agent-reply timer runs from the start.
  return {
    request,
    snapshot: null,
    status: 'open',
    agentId: null,
    turn: 'agent',
    turnSince: now,
    queuedAt: null,
    startedAt: now,
    lastBuyerMessageAt: null,
    lastAgentMessageAt: null,
    messageCount: 0,
    recentMessageIds: [],
    assignments: [],
    closeReason: null,
    closedAt: null,
  };
}

export async function conversationWorkflow(input: ConversationInput): Promise<ConversationView> {
  const state: ConversationState = input.carried ?? initialState(input.start ?? input.resume.request);
  if (input.resume) {
    state.snapshot = input.resume.snapshot;
    // The session continues: its message count goes on from what the earlier runs recorded.
    state.messageCount = input.resume.messageCount ?? 0;
  }
  const { shopId, sessionId } = state.request;
  // Bumped by handlers on every event that moves the deadline, so the waiting timer loop re-arms.
  let changes = 0;
  let messagesThisRun = 0;
  let closeRequest: CloseReason | null = null;
  let leaveQueueRequested = false;
  let routeRequested = false;
  let routing = false;
  // Set while the buyer's request sits in the offline pool: the run waits for its assignment there.
  let pooledAt: number | null = null;
  let poolAssignment: AgentAssignment | null = null;

  const isLive = () => state.status !== 'closed' && state.status !== 'offline' && closeRequest === null;

  const isDuplicate = (messageId: string | undefined): boolean => {
    if (messageId === undefined) return false;
    if (state.recentMessageIds.includes(messageId)) return true;
    state.recentMessageIds.push(messageId);
    if (state.recentMessageIds.length > RECENT_MESSAGE_IDS) state.recentMessageIds.shift();
    return false;
  };

  const setStatus = (status: SessionStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: SESSION_STATUS_ATTR, value: status }]);
  };

  const applyAssignment = (a: AgentAssignment) => {
    if (state.assignments.some((e) => e.assignmentId === a.assignmentId)) return;
    const now = Date.now();
    state.assignments.push({ ...a, at: new Date(now).toISOString() });
    if (state.assignments.length > ASSIGNMENTS_KEPT) state.assignments.shift();
    state.agentId = a.agentId;
    state.queuedAt = null;
    // The buyer is waiting for this agent now.
    state.turn = 'agent';
    state.turnSince = now;
    setStatus('active');
    upsertSearchAttributes([{ key: AGENT_ID_ATTR, value: a.agentId }]);
    changes++;
  };

  setHandler(sessionStateQuery, () => viewOf(state));

  setHandler(sessionOpenedUpdate, async () => {
    await condition(() => state.snapshot !== null && !routeRequested && !routing);
    return viewOf(state);
  });

  setHandler(buyerMessageSignal, (m) => {
    if (!isLive() || isDuplicate(m.messageId)) return;
    const now = Date.now();
    state.lastBuyerMessageAt = now;
    state.messageCount++;
    messagesThisRun++;
    // Only a turn change moves the deadline; a repeat from the same side leaves the timer alone.
    if (state.turn !== 'agent') {
      state.turn = 'agent';
      state.turnSince = now;
      changes++;
    }
  });

  setHandler(agentMessageSignal, (m) => {
    if (!isLive() || isDuplicate(m.messageId)) return;
    const now = Date.now();
    state.lastAgentMessageAt = now;
    state.messageCount++;
    messagesThisRun++;
    // In the queue only assignment ends the wait; a shop-side message (a bot's) does not.
    if (state.status !== 'queued' && state.turn !== 'buyer') {
      state.turn = 'buyer';
      state.turnSince = now;
      changes++;
    }
  });

  setHandler(humanRequestedSignal, () => {
    if (isLive() && state.status === 'open' && state.agentId === null) routeRequested = true;
  });

  setHandler(
    requestHumanUpdate,
    async () => {
      if (state.status === 'open' && state.agentId === null) routeRequested = true;
      await condition(() => !routeRequested && !routing);
      return viewOf(state);
    },
    {
      validator: () => {
        if (!isLive()) throw ApplicationFailure.create({ type: 'session_closed', message: `session ${sessionId} is already ${state.status}`, nonRetryable: true });
      },
    },
  );

  setHandler(agentAssignedSignal, (a) => {
    if (isLive()) applyAssignment(a);
    else if (pooledAt !== null) poolAssignment ??= a;
  });

  setHandler(
    closeSessionUpdate,
    async ({ by }) => {
      closeRequest ??= by === 'agent' ? 'closed_by_agent' : 'closed_by_buyer';
      // A timer may win the race; the caller then learns the reason that actually closed it.
      await condition(() => state.status === 'closed');
      return viewOf(state);
    },
    {
      validator: (req) => {
        if (req?.by !== 'agent' && req?.by !== 'buyer') {
          throw ApplicationFailure.create({ type: 'invalid_close_request', message: 'by must be "agent" or "buyer"', nonRetryable: true });
        }
        if (state.status === 'closed' || state.status === 'offline') {
          throw ApplicationFailure.create({ type: 'session_closed', message: `session ${sessionId} is already ${state.status}`, nonRetryable: true });
        }
      },
    },
  );

  setHandler(
    leaveQueueUpdate,
    async () => {
      leaveQueueRequested = true;
      await condition(() => state.status !== 'queued');
      return viewOf(state);
    },
    {
      validator: () => {
        if (state.status !== 'queued' || closeRequest !== null) {
          throw ApplicationFailure.create({ type: 'session_not_queued', message: `session ${sessionId} is ${state.status}, not queued`, nonRetryable: true });
        }
      },
    },
  );

  const close = async (reason: CloseReason, toOfflinePool: boolean) => {
    const now = Date.now();
    const result = await acts.closeSession({
      shopId,
      sessionId,
      reason,
      at: new Date(now).toISOString(),
      toOfflinePool,
      onlyIfQueued: toOfflinePool,
      lastBuyerMessageAt: iso(state.lastBuyerMessageAt),
      lastAgentMessageAt: iso(state.lastAgentMessageAt),
      messageCount: state.messageCount,
    });
    if (result.kind === 'assigned_meanwhile') {
      // Capacity freed while the queue timer fired: the assignment won, the session lives on.
      applyAssignment(result.assignment);
      return;
    }
    state.closeReason = result.closeReason;
    state.closedAt = now;
    if (toOfflinePool) pooledAt = now;
    setStatus('closed');
    if (patched(ON_CALL_SEARCH_ATTRIBUTES)) {
      upsertSearchAttributes([{ key: CLOSE_REASON_ATTR, value: result.closeReason }, { key: NEXT_DEADLINE_ATTR, value: null }]);
      shownDeadline = null;
    }
  };

  const route = async () => {
    routing = true;
    const outcome = await acts.routeSession({ shopId, sessionId, at: new Date(Date.now()).toISOString() }).finally(() => {
      routing = false;
    });
    switch (outcome.kind) {
      case 'assigned':
        applyAssignment(outcome.assignment);
        break;
      case 'queued':
        state.queuedAt = Date.parse(outcome.queuedAt);
        setStatus('queued');
        break;
      case 'offline':
        // Nobody online: the buyer's request waits in the offline-message pool, and this run with it.
        pooledAt = Date.now();
        setStatus('offline');
        break;
    }
  };

  if (input.start) {
    upsertSearchAttributes([{ key: SESSION_STATUS_ATTR, value: state.status }]);
    const opening = { ...state.request, at: new Date(state.startedAt).toISOString() };
    state.snapshot = patched(OPEN_AS_LOCAL_ACTIVITY) ? await localActs.openSession(opening) : await acts.openSession(opening);
    if (state.request.wantsHuman) routeRequested = true;
  }

  /** From the pool back to life: the same run serves the session again, with the agent. */
  const resumeFromPool = (a: AgentAssignment) => {
    state.closeReason = null;
    state.closedAt = null;
    applyAssignment(a);
    if (patched(ON_CALL_SEARCH_ATTRIBUTES)) upsertSearchAttributes([{ key: CLOSE_REASON_ATTR, value: null }]);
  };
  // The deadline last written to visibility, so an unchanged one costs nothing.
  let shownDeadline: number | null = null;

  for (;;) {
    if (state.status === 'closed' || state.status === 'offline') {
      if (pooledAt === null || !patched(AWAIT_POOL_ASSIGNMENT)) break;
      // Assigning a pool message is then a signal to this run, not a new start (5,000 at a time).
      const since = pooledAt;
      const assigned = await condition(() => poolAssignment !== null, OFFLINE_POOL_RUN_WAIT_MS);
      const assignment = assigned ? poolAssignment : ((await acts.releasePoolWait({ shopId, sessionId, since: new Date(since).toISOString() })) ?? poolAssignment);
      pooledAt = null;
      poolAssignment = null;
      if (!assignment) break;
      resumeFromPool(assignment);
      continue;
    }
    if (closeRequest !== null) {
      await close(closeRequest, false);
      continue;
    }
    if (leaveQueueRequested) {
      leaveQueueRequested = false;
      if (state.status === 'queued') await close('left_queue', true);
      continue;
    }
    if (routeRequested) {
      routeRequested = false;
      await route();
      continue;
    }
    if (messagesThisRun >= CONVERSATION_MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversationWorkflow>({ carried: state });
    }
    const snapshot = state.snapshot;
    if (snapshot === null) throw ApplicationFailure.nonRetryable('session has no settings snapshot');
    const deadline = nextDeadline({ ...state, snapshot });
    if ((deadline?.at ?? null) !== shownDeadline && patched(ON_CALL_SEARCH_ATTRIBUTES)) {
      shownDeadline = deadline?.at ?? null;
      upsertSearchAttributes([{ key: NEXT_DEADLINE_ATTR, value: deadline ? new Date(deadline.at) : null }]);
    }
    const seen = changes;
    const wake = () =>
      changes !== seen || closeRequest !== null || leaveQueueRequested || routeRequested || messagesThisRun >= CONVERSATION_MESSAGES_PER_RUN;
    if (deadline === null) {
      await condition(wake);
    } else if (!(await condition(wake, Math.max(1, deadline.at - Date.now())))) {
      await close(deadline.reason, deadline.reason === 'queue_timeout');
    }
  }

  await condition(allHandlersFinished);
  return viewOf(state);
}
