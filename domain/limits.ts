/**
 * Platform rules and setting bounds. Every limit the product enforces is defined here once;
 * api/, workflows/ and activities/ import these rather than repeating numbers.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** docs/rules.md §1.3: an agent must answer a buyer within 6 h; a platform rule merchants cannot change. */
export const AGENT_REPLY_TIMEOUT_MS = 6 * HOUR_MS;
/** docs/rules.md §1.7: sessions created under the legacy policy keep the old 72 h agent-reply rule. */
export const LEGACY_AGENT_REPLY_TIMEOUT_MS = 72 * HOUR_MS;
/** docs/rules.md §1.6: a session waiting in the queue pool this long without a human leaves the queue. */
export const QUEUE_TIMEOUT_MS = 24 * HOUR_MS;

/** docs/rules.md §1.4: buyer-idle timeout, a merchant setting in whole minutes. */
export const BUYER_IDLE_MINUTES_DEFAULT = 20;
export const BUYER_IDLE_MINUTES_MIN = 5;
export const BUYER_IDLE_MINUTES_MAX = 360;

/** docs/rules.md §2.4: a buyer served within this window goes back to the same agent. */
export const RECENT_CONTACT_WINDOW_MS = 24 * HOUR_MS;

/** docs/rules.md §3.2: offline messages older than this are not distributed automatically. */
export const OFFLINE_MESSAGE_ELIGIBILITY_MS = 24 * HOUR_MS;
/**
 * A session whose request went to the offline pool keeps its run waiting this long for the
 * assignment (the automatic scope's horizon); a later, manual assignment starts a new run.
 */
export const OFFLINE_POOL_RUN_WAIT_MS = OFFLINE_MESSAGE_ELIGIBILITY_MS;
/** docs/rules.md §3.2: distribution fires on every :00 and :30; the interval is fixed. */
export const DISTRIBUTION_SLOT_MINUTES = 30;
/** docs/rules.md §3.2: hard ceiling on assignments of one distribution run, whatever the settings. */
export const DISTRIBUTION_RUN_HARD_CAP = 5000;

/** docs/rules.md §2.2, §2.9: agent capacity bounds (最大接待人数); 200 is ours, it keeps a typo from flooding one seat. */
export const AGENT_CAPACITY_MIN = 0;
export const AGENT_CAPACITY_MAX = 200;
export const AGENT_CAPACITY_DEFAULT = 5;

/** A conversation run continues as new after this many handled messages, to keep its history bounded. */
export const CONVERSATION_MESSAGES_PER_RUN = 500;

/** docs/rules.md §9.2: an agent who goes offline holding sessions has this grace (whole minutes) before they are re-routed. */
export const AGENT_LEFT_GRACE_MINUTES_DEFAULT = 5;
export const AGENT_LEFT_GRACE_MINUTES_MIN = 0;
export const AGENT_LEFT_GRACE_MINUTES_MAX = 60;
/** docs/rules.md §9.3: first-reply minutes (off by default) and how often one session may be re-routed for it. */
export const FIRST_REPLY_MINUTES_MIN = 1;
export const FIRST_REPLY_MINUTES_MAX = 60;
export const FIRST_REPLY_REROUTES_MAX = 2;

/** docs/rules.md §9.4: a queued buyer hears every new place up to this one, then only milestones (20, 50, 100, …). */
export const QUEUE_PLACES_TOLD_EACH = 10;
/** docs/rules.md §9.4: the estimated wait divides the place by the queue's serving rate over this window. */
export const QUEUE_SERVING_RATE_WINDOW_MS = HOUR_MS;

/** docs/rules.md §9.1: the note an agent leaves with a transfer. */
export const TRANSFER_NOTE_MAX_LENGTH = 500;

/** docs/rules.md §4.6: a create's first answer to an Idempotency-Key is replayed for this long. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * HOUR_MS;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** How often an API process deletes stored answers past their day. */
export const IDEMPOTENCY_PURGE_EVERY_MS = 15 * 60_000;
/** docs/rules.md §4.6: a claim still without an answer after this long belongs to a request that died: the key is free. */
export const IDEMPOTENCY_CLAIM_STALE_MS = 60_000;

/** Paging for list endpoints. */
export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 500;

/** Free-text identifiers from the chat backend (session id, buyer id, topic). */
export const EXTERNAL_ID_MAX_LENGTH = 128;
