/** Webhook delivery rules (docs/rules.md §6.5–§6.10): retries, pause, batch and request bounds. Defined once here. */
import { HOUR_MS, MINUTE_MS } from './limits';

/** docs/rules.md §6.10: each undelivered event is retried with exponential backoff for at least this long, then the endpoint pauses. */
export const WEBHOOK_RETRY_WINDOW_MS = 3 * 24 * HOUR_MS;
export const WEBHOOK_BACKOFF_BASE_MS = 5_000;
export const WEBHOOK_BACKOFF_MAX_MS = HOUR_MS;
/** A receiver has this long to answer one delivery. */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 10_000;
/** Events one delivery activity takes at a time; sessions in parallel, each session in order. */
export const WEBHOOK_BATCH_SIZE = 100;
export const WEBHOOK_SESSION_LANES = 16;
/** One delivery activity keeps going (batch after batch, waiting while idle) at most this long. */
export const WEBHOOK_ACTIVITY_BUDGET_MS = 60_000;
/** An idle endpoint's activity waits this long for new events before the run loops (heartbeating). */
export const WEBHOOK_IDLE_WAIT_MS = MINUTE_MS / 2;
export const WEBHOOK_ENDPOINTS_PER_SHOP_MAX = 20;
export const WEBHOOK_URL_MAX_LENGTH = 2048;

export type WebhookEndpointStatus = 'active' | 'paused' | 'deleted';

/** docs/rules.md §6.9: delay before retry n (1-based) of a failing endpoint: 5 s, 10 s, 20 s, … capped at 1 h. */
export function webhookBackoffMs(failures: number): number {
  return Math.min(WEBHOOK_BACKOFF_MAX_MS, WEBHOOK_BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** The type of the event a test send carries; never in the log. */
export const WEBHOOK_TEST_EVENT_TYPE = 'webhook.test';
