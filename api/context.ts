import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import type { Credential } from '../db/repositories/shops';

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
  }
  interface FastifyRequest {
    credential: Credential | null;
  }
}
