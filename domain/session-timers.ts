import { buyerIdleTimeoutMs, type SessionSettingsSnapshot, type SessionStatus, type TimerReason, type Turn } from './session';

export interface TimerInputs {
  status: SessionStatus;
  turn: Turn;
  /** Epoch ms when the current turn began: the first unanswered message of the other side. */
  turnSince: number;
  queuedAt: number | null;
  snapshot: SessionSettingsSnapshot;
}

export interface Deadline {
  at: number;
  reason: TimerReason;
}

/**
 * The one timer that runs for a session (docs/rules.md §1.5): in the queue the 24 h queue limit; otherwise the
 * timer of the side whose turn it is. Timers count from the first unanswered message, so more
 * messages from the same side do not extend them.
 */
export function nextDeadline(s: TimerInputs): Deadline | null {
  switch (s.status) {
    case 'closed':
    case 'offline':
      return null;
    case 'queued':
      return { at: (s.queuedAt ?? s.turnSince) + s.snapshot.queueTimeoutMs, reason: 'queue_timeout' };
    default:
      return s.turn === 'agent'
        ? { at: s.turnSince + s.snapshot.agentReplyTimeoutMs, reason: 'agent_reply_timeout' }
        : { at: s.turnSince + buyerIdleTimeoutMs(s.snapshot), reason: 'buyer_idle_timeout' };
  }
}

/** How the timer reads in the Temporal UI: which rule it is (agent-reply 6h, buyer-idle 20m, queue 24h, legacy agent-reply 72h). */
export function timerSummary(d: Deadline, snapshot: SessionSettingsSnapshot): string {
  const hours = (ms: number) => `${Math.round(ms / 3_600_000)}h`;
  switch (d.reason) {
    case 'queue_timeout':
      return `queue ${hours(snapshot.queueTimeoutMs)}`;
    case 'buyer_idle_timeout':
      return `buyer-idle ${snapshot.buyerIdleMinutes}m`;
    default:
      return `${snapshot.policy === 'legacy' ? 'legacy ' : ''}agent-reply ${hours(snapshot.agentReplyTimeoutMs)}`;
  }
}
