/**
 * Property tests of the conversation machine (domain/conversation-machine.ts): random interleavings
 * of buyer and agent messages, 转人工, assignments, leave-queue, closes, activity outcomes, pool waits
 * and timer firings, run through a small in-memory interpreter that behaves like the workflow's loop
 * (an activity stays in flight while other events arrive). fast-check prints the seed and the
 * shrunk sequence of any failure; replay one with `fc.assert(..., { seed, path })`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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
  isLive,
  refuseClose,
  refuseLeaveQueue,
  refuseRequestHuman,
  shouldWake,
  type Env,
  type Machine,
  type MachineEvent,
  type Step,
} from '../../domain/conversation-machine';
import { AGENT_REPLY_TIMEOUT_MS, LEGACY_AGENT_REPLY_TIMEOUT_MS, MINUTE_MS, QUEUE_TIMEOUT_MS } from '../../domain/limits';
import type { SessionPolicy } from '../../domain/session';

const T0 = Date.parse('2026-11-22T00:00:00Z');

type Op =
  | { op: 'buyer'; messageId?: string }
  | { op: 'agent'; messageId?: string }
  | { op: 'human' }
  | { op: 'assign' }
  | { op: 'transfer' }
  | { op: 'close'; by: 'agent' | 'buyer' }
  | { op: 'leave' }
  | { op: 'advance'; ms: number }
  | { op: 'route_done'; outcome: 'assigned' | 'queued' | 'offline' }
  | { op: 'close_done'; assignedMeanwhile: boolean }
  | { op: 'pool_assign' }
  | { op: 'pool_expire' };

const messageId = fc.option(fc.constantFrom('m1', 'm2', 'm3', 'm4'), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('buyer' as const), messageId }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('agent' as const), messageId }) },
  { weight: 2, arbitrary: fc.constant({ op: 'human' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'assign' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'transfer' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('close' as const), by: fc.constantFrom('agent' as const, 'buyer' as const) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'leave' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.constantFrom(1, MINUTE_MS, 10 * MINUTE_MS, 3 * 3_600_000, 7 * 3_600_000, 25 * 3_600_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('route_done' as const),
      outcome: fc.constantFrom('assigned' as const, 'queued' as const, 'offline' as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('close_done' as const), assignedMeanwhile: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'pool_assign' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'pool_expire' as const }) },
);

const startArb = fc.record({
  wantsHuman: fc.boolean(),
  botEngaged: fc.boolean(),
  policy: fc.constantFrom<SessionPolicy>('current', 'legacy'),
  buyerIdleMinutes: fc.integer({ min: 5, max: 360 }),
  patchesOn: fc.constant(true),
  // A buyer who asks for a human at start may be routed by the opening activity itself.
  routedAtOpening: fc.option(fc.constantFrom<'assigned' | 'queued' | 'offline'>('assigned', 'queued', 'offline'), { nil: undefined }),
});

type Pending = { kind: 'opened' | 'human' | 'close' | 'leave'; settled: (m: Machine) => boolean };
type InFlight =
  | { kind: 'route' }
  | { kind: 'close'; step: Extract<Step, { kind: 'close' }> }
  | { kind: 'wait'; seen: number }
  | { kind: 'pool' }
  | { kind: 'finished' }
  | null;

/** The workflow's loop in memory: the same machine, with activities settled by the test's ops. */
class Sim {
  m: Machine;
  now = T0;
  inFlight: InFlight = null;
  pending: Pending[] = [];
  closesThisLife = 0;
  nextAssignment = 0;
  readonly env: Env = { patched: () => true, continueAsNewSuggested: false };

  constructor(start: {
    wantsHuman: boolean;
    botEngaged: boolean;
    policy: SessionPolicy;
    buyerIdleMinutes: number;
    routedAtOpening?: 'assigned' | 'queued' | 'offline';
  }) {
    const request = {
      shopId: 'shop',
      sessionId: 's',
      buyerId: 'b',
      topic: 'presales',
      wantsHuman: start.wantsHuman,
      botEngaged: start.botEngaged,
      policy: start.policy,
    };
    this.m = newMachine(initialState(request, this.now));
    const routed = start.wantsHuman && start.routedAtOpening ? this.outcome(start.routedAtOpening) : undefined;
    this.feed({
      type: 'opened',
      ...(routed ? { routed: { at: this.now, outcome: routed } } : {}),
      snapshot: {
        settingsVersion: 1,
        policy: start.policy,
        buyerIdleMinutes: start.buyerIdleMinutes,
        agentReplyTimeoutMs: start.policy === 'legacy' ? LEGACY_AGENT_REPLY_TIMEOUT_MS : AGENT_REPLY_TIMEOUT_MS,
        queueTimeoutMs: QUEUE_TIMEOUT_MS,
      },
    });
    this.pending.push({ kind: 'opened', settled: openedSettled });
    this.loop();
  }

  feed(e: MachineEvent): void {
    const before = this.m;
    this.m = apply(this.m, e, this.env).machine;
    if (e.type === 'closed' && e.outcome.kind === 'closed') this.closesThisLife++;
    if (e.type === 'resumed_from_pool') this.closesThisLife = 0;
    checkInvariants(before, this.m, e);
  }

  outcome(kind: 'assigned' | 'queued' | 'offline') {
    return kind === 'assigned'
      ? { kind, assignment: this.assignment() }
      : kind === 'queued'
        ? { kind, queuedAt: new Date(this.now).toISOString() }
        : { kind };
  }

  assignment() {
    this.nextAssignment++;
    return {
      assignmentId: `as${this.nextAssignment}`,
      agentId: `agent${this.nextAssignment % 3}`,
      operator: 'test',
      reason: '离线留言分配',
    };
  }

  /** Runs the loop until it blocks on an activity, a timer, the pool, or the end. */
  loop(): void {
    for (let guard = 0; guard < 100; guard++) {
      this.pending = this.pending.filter((p) => !p.settled(this.m));
      if (this.inFlight?.kind === 'wait') {
        const deadline = decide(this.m, this.env).step;
        if (shouldWake(this.m, this.inFlight.seen)) this.inFlight = null;
        else if (deadline.kind === 'wait' && deadline.deadline && this.now >= deadline.deadline.at) {
          this.inFlight = { kind: 'close', step: closeStep(this.m, deadline.deadline.reason, this.env) };
          return;
        } else return this.blocked();
      }
      if (this.inFlight !== null) return this.inFlight.kind === 'pool' || this.inFlight.kind === 'finished' ? this.blocked() : undefined;
      const { machine, step } = decide(this.m, this.env);
      this.m = machine;
      switch (step.kind) {
        case 'finish':
          this.inFlight = { kind: 'finished' };
          break;
        case 'await_pool':
          this.inFlight = { kind: 'pool' };
          break;
        case 'route':
          this.inFlight = { kind: 'route' };
          return;
        case 'close':
          this.inFlight = { kind: 'close', step };
          return;
        case 'continue_as_new':
          // Carried state, fresh run: what continue-as-new does.
          this.m = newMachine(this.m.state);
          break;
        case 'wait':
          checkDeadline(this.m, step.deadline, this.now);
          this.inFlight = { kind: 'wait', seen: this.m.changes };
          break;
      }
    }
    throw new Error('the loop did not block within 100 steps');
  }

  /** Where the run waits on the outside world, no update may be left hanging. */
  blocked(): void {
    this.pending = this.pending.filter((p) => !p.settled(this.m));
    expect(
      this.pending.map((p) => p.kind),
      'updates still waiting while the run is blocked',
    ).toEqual([]);
    expect(this.closesThisLife).toBeLessThanOrEqual(1);
  }

  run(op: Op): void {
    const m = this.m;
    const ended = m.state.status === 'closed' || m.state.status === 'offline';
    switch (op.op) {
      case 'buyer':
      case 'agent': {
        this.feed({ type: op.op === 'buyer' ? 'buyer_message' : 'agent_message', at: this.now, messageId: op.messageId });
        if (ended) expect(this.m.state).toEqual(m.state);
        break;
      }
      case 'human':
        if (refuseRequestHuman(m)) {
          expect(ended || m.closeRequest !== null).toBe(true);
          break;
        }
        this.feed({ type: 'human_requested' });
        expect(this.m.state.request.wantsHuman).toBe(true);
        this.pending.push({ kind: 'human', settled: humanRequestSettled });
        break;
      case 'close':
        if (refuseClose(m, op.by)) {
          expect(ended).toBe(true);
          break;
        }
        this.feed({ type: 'close_requested', by: op.by });
        this.pending.push({ kind: 'close', settled: closeSettled });
        break;
      case 'leave':
        if (refuseLeaveQueue(m)) break;
        this.feed({ type: 'leave_queue_requested' });
        this.pending.push({ kind: 'leave', settled: leaveQueueSettled });
        break;
      case 'assign':
        // A queue drain reaches only a queued session's run.
        if (m.state.status === 'queued') this.feed({ type: 'assigned', at: this.now, assignment: this.assignment() });
        break;
      case 'transfer':
        // Postgres takes a transfer only for a session with an agent (the run may not know yet).
        if (m.state.agentId !== null || m.state.status === 'queued') {
          // Each transfer commits at its own time (its id ends with it), as in Postgres.
          this.now += 1;
          this.nextAssignment++;
          const to = `agent${this.nextAssignment % 3}`;
          this.feed({
            type: 'transferred',
            at: this.now,
            transfer: {
              assignmentId: `s/${to}/${new Date(this.now).toISOString()}`,
              agentId: to,
              operator: 'test',
              reason: '转接',
              fromAgentId: m.state.agentId ?? 'unknown',
            },
          });
          if (isLive(m)) expect(this.m.state.agentId).toBe(to);
          else expect(this.m.state).toEqual(m.state);
        }
        break;
      case 'advance':
        this.now += op.ms;
        break;
      case 'route_done':
        if (this.inFlight?.kind !== 'route') return;
        this.inFlight = null;
        this.feed({
          type: 'routed',
          at: this.now,
          outcome: this.outcome(op.outcome),
        });
        break;
      case 'close_done': {
        if (this.inFlight?.kind !== 'close') return;
        const { step } = this.inFlight;
        this.inFlight = null;
        const meanwhile = op.assignedMeanwhile && step.onlyIfQueued && m.state.status === 'queued';
        this.feed({
          type: 'closed',
          at: this.now,
          toOfflinePool: step.toOfflinePool,
          outcome: meanwhile ? { kind: 'assigned_meanwhile', assignment: this.assignment() } : { kind: 'closed', closeReason: step.reason },
        });
        if (!meanwhile) expect(this.m.state.closeReason).toBe(step.reason);
        break;
      }
      case 'pool_assign':
      case 'pool_expire': {
        if (this.inFlight?.kind !== 'pool') return;
        if (op.op === 'pool_assign') this.feed({ type: 'assigned', at: this.now, assignment: this.assignment() });
        const got = this.m.poolAssignment;
        this.inFlight = null;
        this.feed({ type: 'pool_wait_ended' });
        if (got) this.feed({ type: 'resumed_from_pool', at: this.now, assignment: got });
        else this.inFlight = { kind: 'finished' };
        break;
      }
    }
    this.loop();
  }
}

/** Every transition: a closed or offline session takes no message; the queue timer belongs to the queue; turns only move forward. */
function checkInvariants(before: Machine, after: Machine, e: MachineEvent): void {
  const b = before.state;
  const a = after.state;
  if ((b.status === 'closed' || b.status === 'offline') && (e.type === 'buyer_message' || e.type === 'agent_message')) {
    expect(a.messageCount).toBe(b.messageCount);
  }
  expect(a.turnSince).toBeGreaterThanOrEqual(b.turnSince);
  // A message from the side whose turn it already is leaves the timer alone.
  if (e.type === 'buyer_message' && b.turn === 'agent') expect(a.turnSince).toBe(b.turnSince);
  if (e.type === 'agent_message' && (b.turn === 'buyer' || b.status === 'queued')) expect(a.turnSince).toBe(b.turnSince);
  if (b.status === 'closed' && e.type !== 'resumed_from_pool') expect(a.closeReason).toBe(b.closeReason);
  if (a.status === 'queued') expect(a.queuedAt).not.toBeNull();
  // A transfer is not a reply: whose turn it is, and since when, stay as they were.
  if (e.type === 'transferred') expect([a.turn, a.turnSince]).toEqual([b.turn, b.turnSince]);
}

/** The timer the loop arms is exactly the rule's, counted from the first unanswered message, never in the past of its own start. */
function checkDeadline(m: Machine, deadline: { at: number; reason: string } | null, now: number): void {
  const s = m.state;
  expect(deadline).not.toBeNull();
  const snap = s.snapshot!;
  if (s.status === 'queued') {
    expect(deadline).toEqual({ at: s.queuedAt! + snap.queueTimeoutMs, reason: 'queue_timeout' });
  } else if (s.turn === 'agent') {
    expect(deadline).toEqual({ at: s.turnSince + snap.agentReplyTimeoutMs, reason: 'agent_reply_timeout' });
  } else {
    expect(deadline).toEqual({ at: s.turnSince + snap.buyerIdleMinutes * MINUTE_MS, reason: 'buyer_idle_timeout' });
  }
  expect(s.turnSince).toBeLessThanOrEqual(now);
}

describe('conversation machine, random interleavings', () => {
  it('exactly one close per life with one reason, nothing accepted once ended, every update answered, timers by the rules', () => {
    fc.assert(
      fc.property(startArb, fc.array(opArb, { minLength: 1, maxLength: 80 }), (start, ops) => {
        const sim = new Sim(start);
        for (const op of ops) sim.run(op);
      }),
      { numRuns: 500 },
    );
  });

  it('a close racing routing is answered whatever routing ends in, and never closes the next life', () => {
    fc.assert(
      fc.property(
        startArb,
        fc.constantFrom('assigned' as const, 'queued' as const, 'offline' as const),
        fc.array(opArb, { maxLength: 30 }),
        (start, outcome, rest) => {
          const sim = new Sim({ ...start, wantsHuman: false });
          sim.run({ op: 'human' });
          expect(sim.inFlight?.kind).toBe('route');
          sim.run({ op: 'close', by: 'buyer' });
          sim.run({ op: 'route_done', outcome });
          if (outcome !== 'offline') sim.run({ op: 'close_done', assignedMeanwhile: false });
          expect(['closed', 'offline']).toContain(sim.m.state.status);
          expect(sim.pending).toEqual([]);
          if (outcome === 'offline') {
            sim.run({ op: 'pool_assign' });
            expect(sim.m.state.status).toBe('active');
            expect(sim.inFlight?.kind).toBe('wait');
          }
          for (const op of rest) sim.run(op);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('bot-only sessions go to the pool as bot_only when they close; others only by the queue', () => {
    fc.assert(
      fc.property(startArb, fc.array(opArb, { maxLength: 60 }), (start, ops) => {
        const sim = new Sim(start);
        let everAssigned = false;
        for (const op of ops) {
          const before = sim.m.state;
          const inFlight = sim.inFlight;
          sim.run(op);
          everAssigned ||= sim.m.state.assignments.length > 0;
          if (inFlight?.kind === 'close' && op.op === 'close_done' && sim.m.state.status === 'closed' && before.status !== 'closed') {
            const { step } = inFlight;
            const botOnly = before.request.botEngaged && before.status === 'open' && !everAssigned;
            if (botOnly) expect(step).toMatchObject({ toOfflinePool: true, origin: 'bot_only', onlyIfQueued: false });
            else if (step.reason === 'queue_timeout' || step.reason === 'left_queue')
              expect(step).toMatchObject({ toOfflinePool: true, origin: step.reason });
            else expect(step.toOfflinePool).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('re-routes arriving late or twice', () => {
  const env = { patched: () => true };
  const snapshot = {
    settingsVersion: 1,
    policy: 'current' as const,
    buyerIdleMinutes: 20,
    agentReplyTimeoutMs: AGENT_REPLY_TIMEOUT_MS,
    queueTimeoutMs: QUEUE_TIMEOUT_MS,
  };
  const iso = (ms: number) => new Date(T0 + ms).toISOString();
  const assignment = (agentId: string, ms: number) => ({
    assignmentId: `s/${agentId}/${iso(ms)}`,
    agentId,
    operator: 'test',
    reason: 'routing',
  });
  const feed = (m: Machine, e: MachineEvent) => apply(m, e, env).machine;
  const active = () => {
    let m = newMachine(
      initialState({ shopId: 'x', sessionId: 's', buyerId: 'b', topic: 't', wantsHuman: false, botEngaged: false, policy: 'current' }, T0),
    );
    m = feed(m, { type: 'opened', snapshot });
    return feed(m, { type: 'assigned', at: T0 + 1_000, assignment: assignment('A', 1_000) });
  };

  it('a re-route away from an assignment the run has moved past changes nothing', () => {
    // The pool gave the session to C after the re-route away from A committed; C's signal came first.
    let m = feed(active(), { type: 'assigned', at: T0 + 5_000, assignment: assignment('C', 5_000) });
    const before = m.state;
    m = feed(m, {
      type: 'rerouted',
      at: T0 + 6_000,
      reroute: {
        fromAgentId: 'A',
        fromAssignmentId: assignment('A', 1_000).assignmentId,
        reason: 'agent_left',
        outcome: { kind: 'offline' },
      },
    });
    expect(m.state).toEqual(before);
    expect(m.pooledAt).toBeNull();
  });

  it('the same re-route twice is applied once', () => {
    const r = {
      fromAgentId: 'A',
      fromAssignmentId: assignment('A', 1_000).assignmentId,
      reason: 'no_first_reply' as const,
      outcome: { kind: 'queued' as const, queuedAt: iso(2_000) },
    };
    const once = feed(active(), { type: 'rerouted', at: T0 + 2_000, reroute: r });
    expect([once.state.status, once.state.firstReplyReroutes]).toEqual(['queued', 1]);
    const twice = feed(once, { type: 'rerouted', at: T0 + 3_000, reroute: r });
    expect(twice.state).toEqual(once.state);
  });
});
