import type { Db } from '../db/connection';
import { closeSession, openSession, type CloseOutcome, type CloseSessionRequest } from '../db/repositories/sessions';
import { routeSession, type RouteOutcome } from '../db/repositories/routing';
import type { SessionSettingsSnapshot, StartSessionRequest } from '../domain/session';
import type { OutboxFlush } from '../temporal/outbox-sender';

export interface SessionActivityDeps {
  db: Db;
  flushOutbox: OutboxFlush;
}

/**
 * Activities of the conversation workflow. Each is one Postgres transaction keyed by the session,
 * so a retry after a crash repeats nothing; outbox signals go out only after that commit.
 */
export function createSessionActivities({ db, flushOutbox }: SessionActivityDeps) {
  return {
    async openSession(req: StartSessionRequest & { at: string }): Promise<SessionSettingsSnapshot> {
      return openSession(db, req);
    },

    async routeSession(req: { shopId: string; sessionId: string; at: string }): Promise<RouteOutcome> {
      return routeSession(db, req.shopId, req.sessionId, req.at);
    },

    async closeSession(req: CloseSessionRequest): Promise<CloseOutcome> {
      const outcome = await closeSession(db, req);
      // Also on a retry: the first attempt may have committed and crashed before delivering.
      await flushOutbox({ shopId: req.shopId });
      return outcome;
    },
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
