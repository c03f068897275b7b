/** Operator recorded for every assignment the system makes (docs/rules.md §3.4: 系统自动分配). */
export const SYSTEM_OPERATOR = '系统自动分配';
/** Reason shown to the agent when an offline message is assigned (docs/rules.md §3.3: 离线留言分配). */
export const OFFLINE_ASSIGNMENT_REASON = '离线留言分配';
/** Reasons recorded for live assignments. */
export const LIVE_ROUTING_REASON = 'routing';
export const RECENT_CONTACT_REASON = 'recent_contact';
export const QUEUE_DRAIN_REASON = 'queue';
/** Reason recorded for a transfer (docs/rules.md §9.1: 转接), shown to the agent who receives it. */
export const TRANSFER_REASON = '转接';
/** Reason recorded for a session re-routed away from its agent (docs/rules.md §9.2 agent left, §9.3 no first reply). */
export const REROUTE_REASON = '重新分流';

/**
 * An assignment's id: session, agent and the time Postgres committed it, so every path that reports
 * it (routing, the pool, transfers, the run's own record) agrees, and its time can be read back.
 */
export function assignmentIdOf(sessionId: string, agentId: string, assignedAt: Date | string): string {
  return `${sessionId}/${agentId}/${new Date(assignedAt).toISOString()}`;
}

/** When the assignment was committed (epoch ms): the time its id ends with. */
export function committedAtOf(assignmentId: string): number {
  return Date.parse(assignmentId.slice(assignmentId.lastIndexOf('/') + 1));
}

/**
 * What made an assignment record: a distribution run (auto), the merchant (manual), live routing,
 * the queue, a transfer (转接) or a re-route (docs/rules.md §9.2, §9.3).
 */
export const ASSIGNMENT_RECORD_KINDS = ['auto', 'manual', 'live', 'queue', 'transfer', 'reroute'] as const;
export type AssignmentRecordKind = (typeof ASSIGNMENT_RECORD_KINDS)[number];
