import type { Db } from '../db/connection';
import { PgListener } from '../db/notifications';
import type { WebhookDeps } from '../infra/webhook-deps';
import { createSessionActivities } from './sessions';
import { createShopActivities } from './shop';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  db: Db;
  /** The process's LISTEN connection; made on first use when not given. */
  listener?: PgListener;
  /** Webhook signing and where deliveries may go; without it, webhook deliveries fail (and retry). */
  webhooks?: WebhookDeps;
}

/** Every activity the worker registers, built once with the worker's database and Temporal client. */
export function createActivities(deps: ActivityDeps) {
  let listener = deps.listener;
  return {
    ...createSessionActivities(deps),
    ...createShopActivities(deps),
    ...createWebhookActivities({ db: deps.db, webhooks: deps.webhooks, listener: () => (listener ??= PgListener.forDb(deps.db)) }),
  };
}
