/**
 * The conversation's rules as a pure state machine (docs/rules.md §1 and §2). The workflow
 * (workflows/conversation.ts) only interprets it: it feeds in what happened — a message, a request, an
 * activity's result — as events, executes the commands that come back (search-attribute writes), and
 * asks `decide` what the loop does next (route, close, wait for a deadline, wait in the pool, end).
 * No clock, no I/O: times arrive in the events, so every interleaving can be tested in memory
 * (test/domain/conversation-machine.test.ts).
 */
import { committedAtOf, OFFLINE_ASSIGNMENT_REASON } from './assignment';
import { CONVERSATION_MESSAGES_PER_RUN, FIRST_REPLY_REROUTES_MAX, MINUTE_MS } from './limits';
import type {
  CloseReason,
  OfflineOrigin,
  RerouteReason,
  SessionSettingsSnapshot,
  SessionStatus,
  StartSessionRequest,
  Turn,
} from './session';
import { nextDeadline, type Deadline } from './session-timers';
import { responseSlotOf } from './service-levels';

/** Dedup window for re-sent message reports, and how many assignment events the state keeps. */
const RECENT_MESSAGE_IDS = 64;
const ASSIGNMENTS_KEPT = 20;

/** An agent given to the session by Postgres-side assignment (queue drain, pool distribution). */
export interface AgentAssignment {
  assignmentId: string;
  agentId: string;
  operator: string;
  reason: string;
}

export interface AssignmentEvent extends AgentAssignment {
  at: string;
}

/** A transfer (转接) committed in Postgres: the session's new agent and the one it left. */
export interface AgentTransfer extends AgentAssignment {
  fromAgentId: string;
}

/** The session as the run keeps it. Plain JSON: carried through continue-as-new. Times are epoch ms. */
export interface ConversationState {
  request: StartSessionRequest;
  snapshot: SessionSettingsSnapshot | null;
  status: SessionStatus;
  agentId: string | null;
  turn: Turn;
  /** When the current turn began: the first unanswered message of the other side. */
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
  /**
   * docs/rules.md §9.3: the assignment whose agent has not answered yet, while the first-reply rule applies
   * to it (absent in runs from before handoffs).
   */
  firstReply?: { assignmentId: string; assignedAt: number } | null;
  /** Re-routes for no first reply so far (at most FIRST_REPLY_REROUTES_MAX). */
  firstReplyReroutes?: number;
  /** The assignment the last applied re-route moved away from (a repeat of it is ignored). */
  reroutedFrom?: string | null;
  /** Replies not yet written as service facts (docs/rules.md §10.1): the close writes them (absent in older runs). */
  replies?: PendingReplies;
}

/**
 * Agent replies to a waiting buyer, held until the close records them: each assignment's first
 * reply on its own, every reply (first and later) summed per agent and quarter hour, so the state
 * stays small however long the session runs. Times are epoch ms.
 */
export interface PendingReplies {
  first: { agentId: string; assignmentId: string; at: number; waitedMs: number }[];
  slots: { agentId: string; slot: number; n: number; waitedMs: number }[];
}

/** One run's machine: the session plus the requests the loop has not acted on yet (never carried). */
export interface Machine {
  state: ConversationState;
  closeRequest: CloseReason | null;
  leaveQueueRequested: boolean;
  routeRequested: boolean;
  /** A routing activity is in flight. */
  routing: boolean;
  /** Set while the buyer's request waits in the offline pool (and this run with it). */
  pooledAt: number | null;
  poolAssignment: AgentAssignment | null;
  /** Bumped on every change that moves the deadline, so a waiting loop re-arms its timer. */
  changes: number;
  messagesThisRun: number;
}

/** How routing ended (the routing activity's answer). */
export type RouteOutcome = { kind: 'assigned'; assignment: AgentAssignment } | { kind: 'queued'; queuedAt: string } | { kind: 'offline' };

/** A re-route committed in Postgres (docs/rules.md §9.2, §9.3): where the session went and why. */
export interface SessionReroute {
  fromAgentId: string;
  /** The assignment the session left: a re-route the run has already moved past is not applied again. */
  fromAssignmentId?: string;
  reason: RerouteReason;
  outcome: RouteOutcome;
}

/** How a close ended (the close activity's answer). */
export type CloseOutcome = { kind: 'closed'; closeReason: CloseReason } | { kind: 'assigned_meanwhile'; assignment: AgentAssignment };

/** Where a pooled session came from when it is not a queue or routing outcome. */
export type PoolOrigin = Exclude<OfflineOrigin, 'no_agent_online'>;

export type MachineEvent =
  /** routed: opening also routed the buyer who asked for a human, in the same activity. */
  | { type: 'opened'; snapshot: SessionSettingsSnapshot; routed?: { at: number; outcome: RouteOutcome } }
  | { type: 'buyer_message'; at: number; messageId?: string }
  | { type: 'agent_message'; at: number; messageId?: string }
  | { type: 'human_requested' }
  | { type: 'assigned'; at: number; assignment: AgentAssignment }
  | { type: 'transferred'; at: number; transfer: AgentTransfer }
  | { type: 'rerouted'; at: number; reroute: SessionReroute }
  /** The first-reply timer fired; the activity re-routed the session, or found the assignment gone (null). */
  | { type: 'first_reply_checked'; at: number; assignmentId: string; reroute: SessionReroute | null }
  | { type: 'close_requested'; by: 'agent' | 'buyer' }
  | { type: 'leave_queue_requested' }
  | { type: 'routed'; at: number; outcome: RouteOutcome }
  | { type: 'closed'; at: number; outcome: CloseOutcome; toOfflinePool: boolean }
  | { type: 'resumed_from_pool'; at: number; assignment: AgentAssignment }
  | { type: 'pool_wait_ended' };

/** Side effects the interpreter performs at once, in order. `patch`: only when that patch is on. */
export type Command =
  | { kind: 'status'; status: SessionStatus }
  | { kind: 'agent'; agentId: string }
  | { kind: 'closed_attributes'; closeReason: CloseReason; patch: typeof PATCHES.onCallSearchAttributes }
  | { kind: 'reopened_attributes'; patch: typeof PATCHES.onCallSearchAttributes }
  /** A duration for the on-call histograms (no shop or session label): docs/rules.md §10.4. */
  | { kind: 'observe'; metric: 'first_response_seconds' | 'queue_wait_seconds'; seconds: number };

/** What the loop does next. */
export type Step =
  | { kind: 'route' }
  | { kind: 'close'; reason: CloseReason; toOfflinePool: boolean; onlyIfQueued: boolean; origin: PoolOrigin | null }
  | { kind: 'await_pool'; since: number }
  | { kind: 'continue_as_new' }
  /** firstReplyAt: when the first-reply rule re-routes, if it comes before the deadline (docs/rules.md §9.3). */
  | { kind: 'wait'; deadline: Deadline | null; firstReplyAt: number | null }
  | { kind: 'finish' };

/**
 * Versioned behaviour (Temporal `patched` ids). Runs whose history predates a patch keep the old
 * branch, so their replay stays deterministic; the interpreter answers `patched(id)`.
 */
export const PATCHES = {
  /** CloseReason / NextDeadline search attributes. */
  onCallSearchAttributes: 'close-reason-next-deadline-attributes',
  /** A pooled session's run waits for its assignment instead of ending. */
  awaitPoolAssignment: 'await-pool-assignment',
  /** A close that arrives while routing ends offline is answered by that outcome, not carried into the session's next life. */
  closeDuringRouting: 'close-during-routing-answered',
  /** A bot-only session (bot talked, no human ever) enters the offline pool when it closes. */
  botOnlyToPool: 'bot-only-to-pool',
  /** 转人工 while routing is in flight (or after an agent came) starts no second routing. */
  oneRoutingAtATime: 'one-routing-at-a-time',
  /** An assignment committed before the one the run already holds (a transfer overtook it) changes no agent. */
  staleAssignmentKept: 'stale-assignment-kept',
} as const;

export interface Env {
  patched(id: string): boolean;
  continueAsNewSuggested: boolean;
}

export function initialState(request: StartSessionRequest, now: number): ConversationState {
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

export function newMachine(state: ConversationState): Machine {
  return {
    state,
    closeRequest: null,
    leaveQueueRequested: false,
    routeRequested: false,
    routing: false,
    pooledAt: null,
    poolAssignment: null,
    changes: 0,
    messagesThisRun: 0,
  };
}

/** Closed, or its request waits in the offline pool: the session takes no more messages. */
const ended = (m: Machine): boolean => m.state.status === 'closed' || m.state.status === 'offline';

/** A session that may still change: not closed, not in the pool, no close asked for. */
export const isLive = (m: Machine): boolean => !ended(m) && m.closeRequest === null;

/** The one timer that runs now, if any. */
export function deadlineOf(m: Machine): Deadline | null {
  return m.state.snapshot ? nextDeadline({ ...m.state, snapshot: m.state.snapshot }) : null;
}

// ---- Update handlers: when each is refused, and when its answer is settled ----

export type Refusal = {
  type: 'session_closed' | 'session_in_offline_pool' | 'session_not_queued' | 'invalid_close_request';
  message: string;
};

/** A session waiting in the offline pool was never closed: say where it is, not that it closed. */
const inOfflinePool = (m: Machine): Refusal => ({
  type: 'session_in_offline_pool',
  message: `session ${m.state.request.sessionId} waits in the offline-message pool (nobody was online); it is not closed`,
});

export function refuseClose(m: Machine, by: unknown): Refusal | null {
  if (by !== 'agent' && by !== 'buyer') return { type: 'invalid_close_request', message: 'by must be "agent" or "buyer"' };
  if (m.state.status === 'offline') return inOfflinePool(m);
  if (ended(m)) return { type: 'session_closed', message: `session ${m.state.request.sessionId} is already ${m.state.status}` };
  return null;
}

export function refuseLeaveQueue(m: Machine): Refusal | null {
  if (m.state.status !== 'queued' || m.closeRequest !== null)
    return { type: 'session_not_queued', message: `session ${m.state.request.sessionId} is ${m.state.status}, not queued` };
  return null;
}

export function refuseRequestHuman(m: Machine): Refusal | null {
  if (isLive(m)) return null;
  if (m.state.status === 'offline') return inOfflinePool(m);
  return { type: 'session_closed', message: `session ${m.state.request.sessionId} is already ${m.state.status}` };
}

/** The session is recorded and, if it asked for a human, routed — or it ended before routing could. */
export const openedSettled = (m: Machine): boolean => m.state.snapshot !== null && !m.routing && (!m.routeRequested || ended(m));
/** Routing asked for by 转人工 is done, was not needed, or the session ended first (a timer won). */
export const humanRequestSettled = (m: Machine): boolean => !m.routing && (!m.routeRequested || ended(m));
/** The session ended: closed (by this request, a timer that won, or its queue) or sent to the pool by routing. */
export const closeSettled = ended;
export const leaveQueueSettled = (m: Machine): boolean => m.state.status !== 'queued';

// ---- Transitions ----

function withStatus(m: Machine, status: SessionStatus, commands: Command[]): Machine {
  commands.push({ kind: 'status', status });
  return { ...m, state: { ...m.state, status } };
}

function isDuplicate(s: ConversationState, messageId: string | undefined): { dup: boolean; recent: string[] } {
  if (messageId === undefined) return { dup: false, recent: s.recentMessageIds };
  if (s.recentMessageIds.includes(messageId)) return { dup: true, recent: s.recentMessageIds };
  return { dup: false, recent: [...s.recentMessageIds, messageId].slice(-RECENT_MESSAGE_IDS) };
}

/** The run already holds an assignment committed after this one (signals can arrive out of commit order). */
const overtaken = (s: ConversationState, a: AgentAssignment): boolean => {
  const latest = s.assignments.at(-1);
  return latest !== undefined && committedAtOf(latest.assignmentId) > committedAtOf(a.assignmentId);
};

/** docs/rules.md §9.3: the first-reply rule watches this assignment (not a pool one; at most twice re-routed). */
function armFirstReply(s: ConversationState, a: AgentAssignment, at: number): ConversationState {
  const on =
    typeof s.snapshot?.firstReplyMinutes === 'number' &&
    a.reason !== OFFLINE_ASSIGNMENT_REASON &&
    (s.firstReplyReroutes ?? 0) < FIRST_REPLY_REROUTES_MAX;
  if (!on && s.firstReply === undefined) return s;
  // From when Postgres committed it, not when its signal arrived.
  const committed = committedAtOf(a.assignmentId);
  return {
    ...s,
    firstReply: on ? { assignmentId: a.assignmentId, assignedAt: Number.isFinite(committed) ? Math.min(committed, at) : at } : null,
  };
}

/** When the first-reply rule re-routes the session, while the buyer waits for the assigned agent. */
export function firstReplyAt(s: ConversationState): number | null {
  const minutes = s.snapshot?.firstReplyMinutes;
  if (!s.firstReply || typeof minutes !== 'number' || s.status !== 'active' || s.turn !== 'agent') return null;
  return Math.max(s.firstReply.assignedAt, s.turnSince) + minutes * MINUTE_MS;
}

/**
 * A transfer moves the session to its new agent and leaves the turn alone: it is not a reply, so the
 * agent-reply deadline keeps counting from the buyer's first unanswered message (docs/rules.md §9.1).
 */
function applyTransfer(m: Machine, t: AgentTransfer, at: number, commands: Command[]): Machine {
  if (m.state.assignments.some((e) => e.assignmentId === t.assignmentId) || overtaken(m.state, t)) return m;
  const entry: AssignmentEvent = {
    assignmentId: t.assignmentId,
    agentId: t.agentId,
    operator: t.operator,
    reason: t.reason,
    at: new Date(at).toISOString(),
  };
  const assignments = [...m.state.assignments, entry].slice(-ASSIGNMENTS_KEPT);
  // Normally active already; a transfer whose signal overtook the assignment it follows makes it so.
  const next = m.state.status === 'active' ? m : withStatus(m, 'active', commands);
  commands.push({ kind: 'agent', agentId: t.agentId });
  return {
    ...next,
    state: armFirstReply({ ...next.state, assignments, agentId: t.agentId, queuedAt: null }, t, at),
    changes: m.changes + 1,
  };
}

/**
 * A re-route (docs/rules.md §9.2, §9.3): like a transfer it keeps the turn (the buyer still waits since their
 * first unanswered message); to the queue it starts the 24 h queue wait, to the pool the pool wait.
 */
function applyReroute(m: Machine, r: SessionReroute, at: number, commands: Command[]): Machine {
  if (r.fromAssignmentId) {
    // Signals can arrive late or twice: one the run has moved past (it already holds a later
    // assignment, or applied this very re-route) changes nothing.
    const latest = m.state.assignments.at(-1);
    if (m.state.reroutedFrom === r.fromAssignmentId) return m;
    if (latest && latest.assignmentId !== r.fromAssignmentId && committedAtOf(latest.assignmentId) > committedAtOf(r.fromAssignmentId))
      return m;
  }
  const counted = r.reason === 'no_first_reply' ? (m.state.firstReplyReroutes ?? 0) + 1 : m.state.firstReplyReroutes;
  const base: Machine = {
    ...m,
    state: {
      ...m.state,
      firstReply: null,
      ...(counted !== undefined ? { firstReplyReroutes: counted } : {}),
      ...(r.fromAssignmentId ? { reroutedFrom: r.fromAssignmentId } : {}),
    },
  };
  switch (r.outcome.kind) {
    case 'assigned':
      return applyTransfer(base, { ...r.outcome.assignment, fromAgentId: r.fromAgentId }, at, commands);
    case 'queued':
      return {
        ...withStatus({ ...base, state: { ...base.state, agentId: null, queuedAt: Date.parse(r.outcome.queuedAt) } }, 'queued', commands),
        changes: m.changes + 1,
      };
    case 'offline':
      // Nobody online: the buyer's request waits in the pool, and this run with it.
      return {
        ...withStatus({ ...base, state: { ...base.state, agentId: null, queuedAt: null }, pooledAt: at }, 'offline', commands),
        changes: m.changes + 1,
      };
  }
}

function applyAssignment(m: Machine, a: AgentAssignment, at: number, commands: Command[], env?: Pick<Env, 'patched'>): Machine {
  if (m.state.assignments.some((e) => e.assignmentId === a.assignmentId)) return m;
  if (env && overtaken(m.state, a) && env.patched(PATCHES.staleAssignmentKept)) return m;
  const assignments = [...m.state.assignments, { ...a, at: new Date(at).toISOString() }].slice(-ASSIGNMENTS_KEPT);
  if (m.state.status === 'queued' && m.state.queuedAt !== null) {
    const committed = committedAtOf(a.assignmentId);
    const seconds = ((Number.isFinite(committed) ? committed : at) - m.state.queuedAt) / 1000;
    commands.push({ kind: 'observe', metric: 'queue_wait_seconds', seconds: Math.max(0, seconds) });
  }
  // The buyer is waiting for this agent now.
  const assigned = armFirstReply({ ...m.state, assignments, agentId: a.agentId, queuedAt: null, turn: 'agent', turnSince: at }, a, at);
  const next = withStatus({ ...m, state: assigned }, 'active', commands);
  commands.push({ kind: 'agent', agentId: a.agentId });
  return { ...next, changes: m.changes + 1 };
}

/**
 * A reply to a buyer who waited (docs/rules.md §10.1): since their first unanswered message, or since the
 * assignment if that came later (the agent could not answer before). The first per assignment is
 * its first response.
 */
function withReply(s: ConversationState, agentId: string, at: number): PendingReplies {
  const latest = s.assignments.at(-1);
  const assignedAt = latest ? committedAtOf(latest.assignmentId) : NaN;
  const waitedMs = Math.max(0, at - Math.max(s.turnSince, Number.isFinite(assignedAt) ? assignedAt : s.turnSince));
  const pending = s.replies ?? { first: [], slots: [] };
  const first =
    latest && !pending.first.some((f) => f.assignmentId === latest.assignmentId) && latest.agentId === agentId
      ? [...pending.first, { agentId, assignmentId: latest.assignmentId, at, waitedMs }].slice(-ASSIGNMENTS_KEPT)
      : pending.first;
  const slot = responseSlotOf(at);
  const hit = pending.slots.find((x) => x.agentId === agentId && x.slot === slot);
  const slots = hit
    ? pending.slots.map((x) => (x === hit ? { ...x, n: x.n + 1, waitedMs: x.waitedMs + waitedMs } : x))
    : [...pending.slots, { agentId, slot, n: 1, waitedMs }];
  return { first, slots };
}

function message(m: Machine, from: Turn, at: number, messageId: string | undefined): Machine {
  const { dup, recent } = isDuplicate(m.state, messageId);
  if (!isLive(m) || dup) return m;
  const s = { ...m.state, recentMessageIds: recent, messageCount: m.state.messageCount + 1 };
  if (from === 'buyer') s.lastBuyerMessageAt = at;
  else s.lastAgentMessageAt = at;
  // The agent answered: the first-reply rule is done with this assignment.
  if (from === 'agent' && s.firstReply) s.firstReply = null;
  if (from === 'agent' && s.turn === 'agent' && s.status === 'active' && s.agentId !== null) s.replies = withReply(s, s.agentId, at);
  const next = { ...m, state: s, messagesThisRun: m.messagesThisRun + 1 };
  // The turn passes to the other side; a repeat from the same side leaves the timer alone. In the
  // queue only assignment ends the wait: a shop-side message (a bot's) does not.
  const waitingFor: Turn = from === 'buyer' ? 'agent' : 'buyer';
  if (s.turn === waitingFor || (from === 'agent' && s.status === 'queued')) return next;
  return { ...next, state: { ...s, turn: waitingFor, turnSince: at }, changes: m.changes + 1 };
}

/** Applies one event; returns the new machine and the commands to perform now, in order. */
export function apply(m: Machine, e: MachineEvent, env: Pick<Env, 'patched'>): { machine: Machine; commands: Command[] } {
  const commands: Command[] = [];
  const done = (machine: Machine) => ({ machine, commands });
  switch (e.type) {
    case 'opened': {
      const opened = { ...m, state: { ...m.state, snapshot: e.snapshot }, routeRequested: m.routeRequested || m.state.request.wantsHuman };
      if (!e.routed) return done(opened);
      // Routing already ran with opening: as if the loop had asked for it and it had answered.
      return apply({ ...opened, routeRequested: false, routing: true }, { type: 'routed', ...e.routed }, env);
    }
    case 'buyer_message':
      return done(message(m, 'buyer', e.at, e.messageId));
    case 'agent_message': {
      const next = message(m, 'agent', e.at, e.messageId);
      const first = next.state.replies?.first.at(-1);
      if (first && first !== m.state.replies?.first.at(-1))
        commands.push({ kind: 'observe', metric: 'first_response_seconds', seconds: first.waitedMs / 1000 });
      return done(next);
    }
    case 'human_requested': {
      if (!isLive(m)) return done(m);
      // 转人工: the run remembers it (it reaches the pool message if routing ends offline).
      const state = m.state.request.wantsHuman ? m.state : { ...m.state, request: { ...m.state.request, wantsHuman: true } };
      const needsRouting = m.state.status === 'open' && m.state.agentId === null;
      // Routing in flight already serves this request; a second one would route the session twice.
      if (needsRouting && m.routing && env.patched(PATCHES.oneRoutingAtATime)) return done({ ...m, state });
      return done({ ...m, state, routeRequested: m.routeRequested || needsRouting });
    }
    case 'assigned':
      if (isLive(m)) return done(applyAssignment(m, e.assignment, e.at, commands, env));
      if (m.pooledAt !== null && m.poolAssignment === null) return done({ ...m, poolAssignment: e.assignment });
      return done(m);
    case 'transferred':
      // A session that ended meanwhile: Postgres refused or already freed the seat; nothing to follow.
      return done(isLive(m) ? applyTransfer(m, e.transfer, e.at, commands) : m);
    case 'rerouted':
      return done(isLive(m) ? applyReroute(m, e.reroute, e.at, commands) : m);
    case 'first_reply_checked': {
      // Only the assignment that was checked: a transfer that came meanwhile armed its own.
      const cleared =
        m.state.firstReply?.assignmentId === e.assignmentId ? { ...m, state: { ...m.state, firstReply: null }, changes: m.changes + 1 } : m;
      return done(e.reroute && isLive(cleared) ? applyReroute(cleared, e.reroute, e.at, commands) : cleared);
    }
    case 'close_requested':
      return done(m.closeRequest !== null ? m : { ...m, closeRequest: e.by === 'agent' ? 'closed_by_agent' : 'closed_by_buyer' });
    case 'leave_queue_requested':
      return done({ ...m, leaveQueueRequested: true });
    case 'routed': {
      const after = { ...m, routing: false };
      switch (e.outcome.kind) {
        case 'assigned':
          return done(applyAssignment(after, e.outcome.assignment, e.at, commands, env));
        case 'queued':
          return done(withStatus({ ...after, state: { ...after.state, queuedAt: Date.parse(e.outcome.queuedAt) } }, 'queued', commands));
        case 'offline': {
          // Nobody online: the buyer's request waits in the offline-message pool, and this run with it.
          const pooled = withStatus({ ...after, pooledAt: e.at }, 'offline', commands);
          // A close that raced routing is answered by this outcome; it must not close the session's next life.
          if (pooled.closeRequest !== null && env.patched(PATCHES.closeDuringRouting)) return done({ ...pooled, closeRequest: null });
          return done(pooled);
        }
      }
      break;
    }
    case 'closed': {
      // Capacity freed while the queue timer fired: the assignment won, the session lives on.
      if (e.outcome.kind === 'assigned_meanwhile') return done(applyAssignment(m, e.outcome.assignment, e.at, commands));
      // The close recorded the pending replies with it.
      const closed = withStatus(
        {
          ...m,
          state: { ...m.state, closeReason: e.outcome.closeReason, closedAt: e.at, ...(m.state.replies ? { replies: undefined } : {}) },
          pooledAt: e.toOfflinePool ? e.at : m.pooledAt,
        },
        'closed',
        commands,
      );
      commands.push({ kind: 'closed_attributes', closeReason: e.outcome.closeReason, patch: PATCHES.onCallSearchAttributes });
      return done(closed);
    }
    case 'resumed_from_pool': {
      // From the pool back to life: the same run serves the session again, with the agent.
      const reopened = { ...m, pooledAt: null, poolAssignment: null, state: { ...m.state, closeReason: null, closedAt: null } };
      const assigned = applyAssignment(reopened, e.assignment, e.at, commands);
      commands.push({ kind: 'reopened_attributes', patch: PATCHES.onCallSearchAttributes });
      return done(assigned);
    }
    case 'pool_wait_ended':
      return done({ ...m, pooledAt: null, poolAssignment: null });
  }
  return done(m);
}

/**
 * The close a deadline or a request leads to. Queue timeout and leaving the queue send the buyer's
 * request to the offline pool; so does a bot-only session (the bot talked to the buyer, no human ever
 * did), as not human-requested, so that distribution scope `all` reaches it.
 */
export function closeStep(m: Machine, reason: CloseReason, env: Pick<Env, 'patched'>): Extract<Step, { kind: 'close' }> {
  if (reason === 'queue_timeout' || reason === 'left_queue')
    return { kind: 'close', reason, toOfflinePool: true, onlyIfQueued: true, origin: reason };
  const s = m.state;
  const botOnly = s.request.botEngaged && s.status === 'open' && s.agentId === null && s.assignments.length === 0;
  if (botOnly && env.patched(PATCHES.botOnlyToPool))
    return { kind: 'close', reason, toOfflinePool: true, onlyIfQueued: false, origin: 'bot_only' };
  return { kind: 'close', reason, toOfflinePool: false, onlyIfQueued: false, origin: null };
}

/** What the loop does next; requests it takes up are consumed in the returned machine. */
export function decide(m: Machine, env: Env): { machine: Machine; step: Step } {
  const s = m.state;
  if (ended(m)) {
    // The run waits for the pool's assignment: assigning it is then a signal, not a new start.
    if (m.pooledAt !== null && env.patched(PATCHES.awaitPoolAssignment))
      return { machine: m, step: { kind: 'await_pool', since: m.pooledAt } };
    return { machine: m, step: { kind: 'finish' } };
  }
  if (m.closeRequest !== null) return { machine: m, step: closeStep(m, m.closeRequest, env) };
  if (m.leaveQueueRequested) {
    const taken = { ...m, leaveQueueRequested: false };
    return s.status === 'queued' ? { machine: taken, step: closeStep(taken, 'left_queue', env) } : decide(taken, env);
  }
  if (m.routeRequested) {
    // An agent came (queue drain) before the loop took the request up: nothing left to route.
    if ((s.status !== 'open' || s.agentId !== null) && env.patched(PATCHES.oneRoutingAtATime))
      return decide({ ...m, routeRequested: false }, env);
    return { machine: { ...m, routeRequested: false, routing: true }, step: { kind: 'route' } };
  }
  if (m.messagesThisRun >= CONVERSATION_MESSAGES_PER_RUN || env.continueAsNewSuggested)
    return { machine: m, step: { kind: 'continue_as_new' } };
  const deadline = deadlineOf(m);
  const reroute = firstReplyAt(s);
  return {
    machine: m,
    step: { kind: 'wait', deadline, firstReplyAt: reroute !== null && (deadline === null || reroute < deadline.at) ? reroute : null },
  };
}

/** While waiting: something the loop must act on happened since `seenChanges`. */
export function shouldWake(m: Machine, seenChanges: number): boolean {
  return (
    m.changes !== seenChanges ||
    m.closeRequest !== null ||
    m.leaveQueueRequested ||
    m.routeRequested ||
    m.messagesThisRun >= CONVERSATION_MESSAGES_PER_RUN
  );
}
