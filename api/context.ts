import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import type { Credential } from '../db/repositories/api-keys';
import type { PgListener } from '../db/notifications';
import type { WebhookDeps } from '../infra/webhook-deps';

/** What the API needs from the outside world; built by api/server.ts, or by tests. */
export interface AppDeps {
  db: Db;
  temporal: { client: Client; taskQueue: string };
  /** Bearer token for /v1/admin; admin routes answer 401 while it is unset. */
  adminToken: string | undefined;
  logLevel?: string;
  /** How recently a worker must have polled for /readyz to count it (default 90 s; tests shorten it). */
  workerFreshMs?: number;
  /** One short `request` line per request at info (ACCESS_LOG=1); else those lines are debug. */
  accessLog?: boolean;
  /** Webhook secrets and the network policy; webhook registration answers 503 without it. */
  webhooks?: WebhookDeps;
  /** Requests per minute per key (default RATE_LIMIT_PER_MINUTE_DEFAULT); 0: no limit. */
  rateLimitPerMinute?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** Methods the API answers on a concrete path (empty: no such path). */
    allowedMethods(url: string): string[];
    /** Prometheus registry of this API process (api/metrics.ts). */
    metricsRegistry: import('prom-client').Registry;
    /** The process's LISTEN connection (event streams), opened on first use. */
    pgListener(): PgListener;
  }
  interface FastifyRequest {
    credential: Credential | null;
  }
  interface FastifyContextConfig {
    /** The route accepts an agent's own key (see api/auth.ts). */
    allowAgentKey?: boolean;
    /** The route honours Idempotency-Key (api/idempotency.ts). */
    idempotent?: boolean;
    /** Error codes this route answers beyond those of every route of its kind (api/error-catalogue.ts). */
    errors?: import('./error-catalogue').DeclaredErrors;
  }
}
