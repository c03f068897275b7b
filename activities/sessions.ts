import type { Db } from '../db/connection';
import { closeSession, openSession, releasePoolWait, type CloseOutcome, type CloseSessionRequest } from '../db/repositories/sessions';
import { routeSession, type Assignment, type RouteOutcome } from '../db/repositories/routing';
import { rerouteUnanswered, sessionRerouteOf } from '../db/repositories/handoffs';
import type { SessionReroute } from '../domain/conversation-machine';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../domain/session';
import { Context, log } from '@temporalio/activity';
import { workerMetrics } from '../infra/worker-metrics';

/** The calling run: recorded when it waits in the offline pool, so its assignment is signalled to it by id. */
function callingRunId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined; // called outside an activity (tests)
  }
}

export interface SessionActivityDeps {
  db: Db;
}

/**
 * Activities of the conversation workflow. Each is one Postgres transaction keyed by the session,
 * so a retry after a crash repeats nothing; what other runs must hear goes through the outbox,
 * delivered after commit by the worker's relay.
 */
export function createSessionActivities({ db }: SessionActivityDeps) {
  const activities = {
    async openSession(req: StartSessionRequest & { at: string }): Promise<SessionSettingsSnapshot> {
      const { snapshot, created } = await openSession(db, req);
      if (created) {
        workerMetrics().sessionsOpened.add(1);
        log.info('session opened', {
          shopId: req.shopId,
          sessionId: req.sessionId,
          topic: req.topic,
          wantsHuman: req.wantsHuman,
          settingsVersion: snapshot.settingsVersion,
        });
      }
      return snapshot;
    },

    async routeSession(req: { shopId: string; sessionId: string; at: string }): Promise<RouteOutcome> {
      const outcome = await routeSession(db, req.shopId, req.sessionId, req.at, callingRunId());
      workerMetrics().sessionsRouted.add(1, { outcome: outcome.kind });
      log.info(`session ${outcome.kind === 'assigned' ? 'routed' : outcome.kind}`, {
        shopId: req.shopId,
        sessionId: req.sessionId,
        outcome: outcome.kind,
        ...(outcome.kind === 'assigned' ? { agentId: outcome.assignment.agentId, reason: outcome.assignment.reason } : {}),
        ...(outcome.kind === 'queued' ? { queuePosition: outcome.position } : {}),
      });
      return outcome;
    },

    async closeSession(req: CloseSessionRequest): Promise<CloseOutcome> {
      const outcome = await closeSession(db, req, callingRunId());
      if (outcome.kind === 'closed' && outcome.closedNow) {
        workerMetrics().sessionsClosed.add(1, { reason: outcome.closeReason });
        log.info('session closed', {
          shopId: req.shopId,
          sessionId: req.sessionId,
          reason: outcome.closeReason,
          toOfflinePool: req.toOfflinePool,
        });
      }
      return outcome;
    },

    /**
     * A buyer who asks for a human at start: opened and routed in one local activity, so the start
     * costs one activity round trip. Two idempotent steps; a retry repeats neither.
     */
    async openAndRouteSession(
      req: StartSessionRequest & { at: string },
    ): Promise<{ snapshot: SessionSettingsSnapshot; routed: RouteOutcome }> {
      const snapshot = await activities.openSession(req);
      // The run's time, not this process's clock: the queue timer counts from queuedAt in workflow time.
      return { snapshot, routed: await activities.routeSession({ shopId: req.shopId, sessionId: req.sessionId, at: req.at }) };
    },

    /**
     * docs/rules.md §9.3: the assigned agent did not answer in time. Re-routes the session unless that
     * assignment no longer holds (null). Idempotent: a retry finds the assignment gone.
     */
    async rerouteUnanswered(req: { shopId: string; sessionId: string; assignmentId: string; at: string }): Promise<SessionReroute | null> {
      const reroute = await rerouteUnanswered(db, { ...req, runId: callingRunId() ?? '' });
      if (!reroute) return null;
      workerMetrics().sessionsRouted.add(1, { outcome: `rerouted_${reroute.outcome.kind}` });
      log.info('session re-routed: no first reply', {
        shopId: req.shopId,
        sessionId: req.sessionId,
        fromAgentId: reroute.fromAgentId,
        outcome: reroute.outcome.kind,
      });
      return sessionRerouteOf(reroute);
    },

    /** The run stops waiting in the pool; an assignment that committed meanwhile is handed back instead. */
    async releasePoolWait(req: { shopId: string; sessionId: string; since: string }): Promise<Assignment | null> {
      return releasePoolWait(db, req.shopId, req.sessionId, req.since);
    },
  };
  return activities;
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
