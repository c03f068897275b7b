import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import type { Credential } from '../db/repositories/api-keys';
import type { OutboxFlush } from '../temporal/outbox-sender';

/** What the API needs from the outside world; built by api/server.ts, or by tests. */
export interface AppDeps {
  db: Db;
  temporal: { client: Client; taskQueue: string };
  /** Bearer token for /v1/admin; admin routes answer 401 while it is unset. */
  adminToken: string | undefined;
  logLevel?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** Delivers committed outbox rows (assignment signals) right after a change that wrote them. */
    flushOutbox: OutboxFlush;
  }
  interface FastifyRequest {
    credential: Credential | null;
  }
  interface FastifyContextConfig {
    /** The route accepts an agent's own key (see api/auth.ts). */
    allowAgentKey?: boolean;
  }
}
