import type { Db } from '../db/connection';
import { closeSession, openSession, releasePoolWait, type CloseOutcome, type CloseSessionRequest } from '../db/repositories/sessions';
import { routeSession, type Assignment, type RouteOutcome } from '../db/repositories/routing';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../domain/session';

export interface SessionActivityDeps {
  db: Db;
}

/**
 * Activities of the conversation workflow. Each is one Postgres transaction keyed by the session,
 * so a retry after a crash repeats nothing; what other runs must hear goes through the outbox,
 * delivered after commit by the worker's relay.
 */
export function createSessionActivities({ db }: SessionActivityDeps) {
  return {
    async openSession(req: StartSessionRequest & { at: string }): Promise<SessionSettingsSnapshot> {
      return openSession(db, req);
    },

    async routeSession(req: { shopId: string; sessionId: string; at: string }): Promise<RouteOutcome> {
      return routeSession(db, req.shopId, req.sessionId, req.at);
    },

    async closeSession(req: CloseSessionRequest): Promise<CloseOutcome> {
      return closeSession(db, req);
    },

    /** The run stops waiting in the pool; an assignment that committed meanwhile is handed back instead. */
    async releasePoolWait(req: { shopId: string; sessionId: string; since: string }): Promise<Assignment | null> {
      return releasePoolWait(db, req.shopId, req.sessionId, req.since);
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
