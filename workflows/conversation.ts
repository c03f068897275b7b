/**
 * One durable run per customer-service session (docs/rules.md §1 and §2): a thin interpreter of the pure
 * machine in domain/conversation-machine.ts. Handlers turn messages into machine events; the loop asks
 * the machine what to do next and does it (an activity, a timer, continue-as-new). Postgres holds the
 * cross-session facts (capacity, queue). Messages and types: contracts/conversation.ts.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../activities/sessions';
import {
  agentAssignedSignal,
  agentMessageSignal,
  agentTransferredSignal,
  buyerMessageSignal,
  closeSessionUpdate,
  humanRequestedSignal,
  leaveQueueUpdate,
  requestHumanUpdate,
  sessionOpenedUpdate,
  sessionReroutedSignal,
  sessionStateQuery,
  viewOf,
  type ConversationInput,
  type ConversationView,
  type ServiceMetricsSinks,
} from '../contracts/conversation';
import {
  apply,
  closeSettled,
  closeStep,
  decide,
  humanRequestSettled,
  initialState,
  leaveQueueSettled,
  newMachine,
  openedSettled,
  refuseClose,
  refuseLeaveQueue,
  refuseRequestHuman,
  PATCHES,
  shouldWake,
  type Command,
  type Machine,
  type MachineEvent,
  type Refusal,
  type Step,
} from '../domain/conversation-machine';
import { OFFLINE_POOL_RUN_WAIT_MS } from '../domain/limits';
import { timerSummary } from '../domain/session-timers';
import { AGENT_ID_ATTR, CLOSE_REASON_ATTR, NEXT_DEADLINE_ATTR, SESSION_STATUS_ATTR } from '../domain/temporal-names';

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
/** Patch id: routing at start runs as a local activity too, in the first workflow task. */
const ROUTE_AT_START_AS_LOCAL_ACTIVITY = 'route-at-start-local-activity';
/** Patch id: a buyer who asks for a human at start is opened and routed by one local activity. */
const OPEN_AND_ROUTE_AS_ONE_LOCAL_ACTIVITY = 'open-and-route-one-local-activity';

const refuse = (r: Refusal | null): void => {
  if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
};

export async function conversationWorkflow(input: ConversationInput): Promise<ConversationView> {
  const first = input.carried ?? initialState(input.start ?? input.resume.request, Date.now());
  if (input.resume) {
    first.snapshot = input.resume.snapshot;
    // The session continues: its message count goes on from what the earlier runs recorded.
    first.messageCount = input.resume.messageCount ?? 0;
  }
  const { shopId, sessionId } = first.request;
  let m: Machine = newMachine(first);
  const env = {
    patched,
    get continueAsNewSuggested() {
      return workflowInfo().continueAsNewSuggested;
    },
  };
  // On-call histograms of what buyers wait (docs/operations.md), recorded by the worker; never by shop.
  const { serviceMetrics } = proxySinks<ServiceMetricsSinks>();
  // The deadline last written to visibility, so an unchanged one costs nothing.
  let shownDeadline: number | null = null;

  const perform = (commands: Command[]) => {
    for (const c of commands) {
      switch (c.kind) {
        case 'status':
          upsertSearchAttributes([{ key: SESSION_STATUS_ATTR, value: c.status }]);
          break;
        case 'agent':
          upsertSearchAttributes([{ key: AGENT_ID_ATTR, value: c.agentId }]);
          break;
        case 'closed_attributes':
          if (patched(c.patch)) {
            upsertSearchAttributes([
              { key: CLOSE_REASON_ATTR, value: c.closeReason },
              { key: NEXT_DEADLINE_ATTR, value: null },
            ]);
            shownDeadline = null;
          }
          break;
        case 'reopened_attributes':
          if (patched(c.patch)) upsertSearchAttributes([{ key: CLOSE_REASON_ATTR, value: null }]);
          break;
        case 'observe':
          // Metrics are not history: the SDK records them once, never on replay.
          serviceMetrics.observe(c.metric, c.seconds);
          break;
      }
    }
  };
  const feed = (e: MachineEvent) => {
    const { machine, commands } = apply(m, e, env);
    m = machine;
    perform(commands);
  };

  setHandler(sessionStateQuery, () => viewOf(m.state));
  // The place this run's own start queued the session at, answered once with that start.
  let startQueuePosition: number | null = null;
  setHandler(sessionOpenedUpdate, async () => {
    await condition(() => openedSettled(m));
    const position = m.state.status === 'queued' ? startQueuePosition : null;
    startQueuePosition = null;
    return { ...viewOf(m.state), ...(position !== null ? { queuePosition: position } : {}) };
  });
  setHandler(buyerMessageSignal, (msg) => feed({ type: 'buyer_message', at: Date.now(), messageId: msg.messageId }));
  setHandler(agentMessageSignal, (msg) => feed({ type: 'agent_message', at: Date.now(), messageId: msg.messageId }));
  setHandler(humanRequestedSignal, () => feed({ type: 'human_requested' }));
  setHandler(
    requestHumanUpdate,
    async () => {
      feed({ type: 'human_requested' });
      await condition(() => humanRequestSettled(m));
      return viewOf(m.state);
    },
    { validator: () => refuse(refuseRequestHuman(m)) },
  );
  setHandler(agentAssignedSignal, (a) => feed({ type: 'assigned', at: Date.now(), assignment: a }));
  setHandler(agentTransferredSignal, (t) => feed({ type: 'transferred', at: Date.now(), transfer: t }));
  setHandler(sessionReroutedSignal, (r) => feed({ type: 'rerouted', at: Date.now(), reroute: r }));
  setHandler(
    closeSessionUpdate,
    async ({ by }) => {
      feed({ type: 'close_requested', by });
      // A timer or routing may win the race; the caller then learns what actually ended it.
      await condition(() => closeSettled(m));
      return viewOf(m.state);
    },
    { validator: (req) => refuse(refuseClose(m, req?.by)) },
  );
  setHandler(
    leaveQueueUpdate,
    async () => {
      feed({ type: 'leave_queue_requested' });
      await condition(() => leaveQueueSettled(m));
      return viewOf(m.state);
    },
    { validator: () => refuse(refuseLeaveQueue(m)) },
  );

  const route = async (atStart: boolean) => {
    const request = { shopId, sessionId, at: new Date(Date.now()).toISOString() };
    // At start, routing joins opening in the first workflow task: the start call answers sooner.
    const outcome =
      atStart && patched(ROUTE_AT_START_AS_LOCAL_ACTIVITY) ? await localActs.routeSession(request) : await acts.routeSession(request);
    if (atStart && outcome.kind === 'queued') startQueuePosition = outcome.position;
    feed({ type: 'routed', at: Date.now(), outcome });
  };

  const close = async (step: Extract<Step, { kind: 'close' }>) => {
    const now = Date.now();
    const s = m.state;
    const outcome = await acts.closeSession({
      shopId,
      sessionId,
      reason: step.reason,
      at: new Date(now).toISOString(),
      toOfflinePool: step.toOfflinePool,
      onlyIfQueued: step.onlyIfQueued,
      ...(step.origin === 'bot_only' ? { offlineOrigin: step.origin } : {}),
      lastBuyerMessageAt: s.lastBuyerMessageAt === null ? null : new Date(s.lastBuyerMessageAt).toISOString(),
      lastAgentMessageAt: s.lastAgentMessageAt === null ? null : new Date(s.lastAgentMessageAt).toISOString(),
      messageCount: s.messageCount,
      replies: s.replies ?? null,
    });
    feed({
      type: 'closed',
      at: now,
      outcome: outcome.kind === 'closed' ? { kind: 'closed', closeReason: outcome.closeReason } : outcome,
      toOfflinePool: step.toOfflinePool,
    });
  };

  let atStart = false;
  if (input.start) {
    upsertSearchAttributes([{ key: SESSION_STATUS_ATTR, value: m.state.status }]);
    const opening = { ...m.state.request, at: new Date(m.state.startedAt).toISOString() };
    if (m.state.request.wantsHuman && patched(OPEN_AND_ROUTE_AS_ONE_LOCAL_ACTIVITY)) {
      const { snapshot, routed } = await localActs.openAndRouteSession(opening);
      if (routed.kind === 'queued') startQueuePosition = routed.position;
      feed({ type: 'opened', snapshot, routed: { at: Date.now(), outcome: routed } });
    } else {
      const snapshot = patched(OPEN_AS_LOCAL_ACTIVITY) ? await localActs.openSession(opening) : await acts.openSession(opening);
      feed({ type: 'opened', snapshot });
    }
    atStart = true;
  }

  for (;;) {
    const firstStep = atStart;
    atStart = false;
    const decided = decide(m, env);
    m = decided.machine;
    const step = decided.step;
    setCurrentDetails(
      `status ${m.state.status}${m.state.agentId ? ` · agent ${m.state.agentId}` : ''}${step.kind === 'wait' && step.deadline ? ` · next deadline ${new Date(step.deadline.at).toISOString()} (${step.deadline.reason})` : ''}`,
    );
    if (step.kind === 'finish') break;
    if (step.kind === 'await_pool') {
      const assigned = await condition(() => m.poolAssignment !== null, OFFLINE_POOL_RUN_WAIT_MS, { summary: 'offline-pool wait 24h' });
      const assignment = assigned
        ? m.poolAssignment
        : ((await acts.releasePoolWait({ shopId, sessionId, since: new Date(step.since).toISOString() })) ?? m.poolAssignment);
      feed({ type: 'pool_wait_ended' });
      if (!assignment) break;
      feed({ type: 'resumed_from_pool', at: Date.now(), assignment });
      continue;
    }
    if (step.kind === 'close') {
      await close(step);
      continue;
    }
    if (step.kind === 'route') {
      await route(firstStep);
      continue;
    }
    if (step.kind === 'continue_as_new') {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversationWorkflow>({ carried: m.state });
    }
    if (step.kind !== 'wait') continue;
    if (m.state.snapshot === null) throw ApplicationFailure.nonRetryable('session has no settings snapshot');
    const { deadline } = step;
    if ((deadline?.at ?? null) !== shownDeadline && patched(PATCHES.onCallSearchAttributes)) {
      shownDeadline = deadline?.at ?? null;
      upsertSearchAttributes([{ key: NEXT_DEADLINE_ATTR, value: deadline ? new Date(deadline.at) : null }]);
    }
    const seen = m.changes;
    if (step.firstReplyAt !== null && m.state.firstReply) {
      // docs/rules.md §9.3: the agent has this long to answer the buyer after the assignment, else the session moves on.
      const { assignmentId } = m.state.firstReply;
      const summary = `first-reply ${m.state.snapshot.firstReplyMinutes}m · agent ${m.state.agentId}`;
      if (!(await condition(() => shouldWake(m, seen), Math.max(1, step.firstReplyAt - Date.now()), { summary }))) {
        const reroute = await acts.rerouteUnanswered({ shopId, sessionId, assignmentId, at: new Date(Date.now()).toISOString() });
        feed({ type: 'first_reply_checked', at: Date.now(), assignmentId, reroute });
      }
      continue;
    }
    if (deadline === null) {
      await condition(() => shouldWake(m, seen));
    } else if (
      !(await condition(() => shouldWake(m, seen), Math.max(1, deadline.at - Date.now()), {
        summary: timerSummary(deadline, m.state.snapshot),
      }))
    ) {
      await close(closeStep(m, deadline.reason, env));
    }
  }

  await condition(allHandlersFinished);
  return viewOf(m.state);
}
