/** Webhook endpoints of a shop and the log of their delivery attempts. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { WebhookAttempt, WebhookEndpoint } from '../../contracts/shapes';
import type { WebhookEndpointStatus } from '../../domain/webhooks';

/** The API's WebhookEndpoint and WebhookAttempt shapes (contracts/shapes.ts). */
export type { WebhookAttempt, WebhookEndpoint };

export interface EndpointRow {
  id: string;
  shop_id: string;
  url: string;
  event_types: string[] | null;
  description: string | null;
  secret_ciphertext: string;
  status: WebhookEndpointStatus;
  paused_reason: string | null;
  cursor: number;
  replayed_at: Date;
  replay_generation: number;
  failing_since: Date | null;
  created_by_key: string | null;
  created_at: Date;
  updated_at: Date;
}

export function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    shopId: r.shop_id,
    url: r.url,
    eventTypes: r.event_types,
    description: r.description,
    status: r.status,
    pausedReason: r.paused_reason,
    cursor: Number(r.cursor),
    failingSince: r.failing_since ? r.failing_since.toISOString() : null,
    createdByKey: r.created_by_key,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function countLiveEndpoints(db: Knex, shopId: string): Promise<number> {
  const [{ n }] = await db('webhook_endpoints').where({ shop_id: shopId }).whereNot({ status: 'deleted' }).count({ n: '*' });
  return Number(n);
}

export async function insertEndpoint(
  db: Knex,
  e: {
    shopId: string;
    url: string;
    eventTypes: string[] | null;
    description: string | null;
    secretCiphertext: string;
    cursor: number;
    createdByKey: string | null;
  },
): Promise<EndpointRow> {
  const id = `whe_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const [row] = await db('webhook_endpoints')
    .insert({
      id,
      shop_id: e.shopId,
      url: e.url,
      event_types: e.eventTypes,
      description: e.description,
      secret_ciphertext: e.secretCiphertext,
      cursor: e.cursor,
      created_by_key: e.createdByKey,
    })
    .returning('*');
  return row;
}

export async function getEndpointRow(db: Knex, shopId: string, id: string): Promise<EndpointRow | null> {
  const row = await db<EndpointRow>('webhook_endpoints').where({ shop_id: shopId, id }).whereNot({ status: 'deleted' }).first();
  return (row as EndpointRow | undefined) ?? null;
}

export async function listEndpoints(db: Knex, shopId: string): Promise<WebhookEndpoint[]> {
  const rows: EndpointRow[] = await db('webhook_endpoints')
    .where({ shop_id: shopId })
    .whereNot({ status: 'deleted' })
    .orderBy('created_at');
  return rows.map(toEndpoint);
}

export async function updateEndpoint(
  db: Knex,
  shopId: string,
  id: string,
  patch: { url?: string; eventTypes?: string[] | null; description?: string | null; status?: 'active' | 'paused' },
): Promise<EndpointRow | null> {
  const values: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.url !== undefined) values.url = patch.url;
  if (patch.eventTypes !== undefined) values.event_types = patch.eventTypes;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.status === 'active') Object.assign(values, { status: 'active', paused_reason: null, failing_since: null });
  if (patch.status === 'paused') Object.assign(values, { status: 'paused', paused_reason: 'paused by the merchant' });
  const [row] = await db('webhook_endpoints').where({ shop_id: shopId, id }).whereNot({ status: 'deleted' }).update(values).returning('*');
  return row ?? null;
}

export async function deleteEndpoint(db: Knex, shopId: string, id: string): Promise<boolean> {
  const n = await db('webhook_endpoints')
    .where({ shop_id: shopId, id })
    .whereNot({ status: 'deleted' })
    .update({ status: 'deleted', updated_at: db.fn.now() });
  return n > 0;
}

/** Replays from `cursor`: events after it are sent again, even those delivered before. */
export async function resetEndpointCursor(db: Knex, shopId: string, id: string, cursor: number): Promise<EndpointRow | null> {
  const [row] = await db('webhook_endpoints')
    .where({ shop_id: shopId, id })
    .whereNot({ status: 'deleted' })
    .update({
      cursor,
      replayed_at: db.fn.now(),
      replay_generation: db.raw('replay_generation + 1'),
      status: 'active',
      paused_reason: null,
      failing_since: null,
      updated_at: db.fn.now(),
    })
    .returning('*');
  return row ?? null;
}

/** Moves the cursor forward after a batch, unless a replay reset it meanwhile. */
export async function advanceEndpointCursor(
  db: Knex,
  id: string,
  loadedGeneration: number,
  cursor: number,
  failingSince: Date | null,
): Promise<void> {
  await db('webhook_endpoints')
    .where({ id, replay_generation: loadedGeneration })
    .update({ cursor: db.raw('GREATEST(cursor, ?)', [cursor]), failing_since: failingSince, updated_at: db.fn.now() });
}

export async function pauseEndpoint(db: Knex, id: string, reason: string): Promise<void> {
  await db('webhook_endpoints')
    .where({ id, status: 'active' })
    .update({ status: 'paused', paused_reason: reason, updated_at: db.fn.now() });
}

export async function recordAttempt(
  db: Knex,
  a: {
    endpointId: string;
    shopId: string;
    eventSeq: number | null;
    webhookId: string;
    ok: boolean;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
  },
): Promise<WebhookAttempt> {
  const [row] = await db('webhook_attempts')
    .insert({
      endpoint_id: a.endpointId,
      shop_id: a.shopId,
      event_seq: a.eventSeq,
      webhook_id: a.webhookId,
      ok: a.ok,
      status_code: a.statusCode,
      error: a.error?.slice(0, 1000) ?? null,
      duration_ms: a.durationMs,
    })
    .returning('*');
  return toAttempt(row);
}

function toAttempt(r: {
  id: number;
  event_seq: number | null;
  webhook_id: string;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  attempted_at: Date;
}): WebhookAttempt {
  return {
    id: Number(r.id),
    eventSeq: r.event_seq === null ? null : Number(r.event_seq),
    webhookId: r.webhook_id,
    ok: r.ok,
    statusCode: r.status_code,
    error: r.error,
    durationMs: r.duration_ms,
    attemptedAt: r.attempted_at.toISOString(),
  };
}

export async function listAttempts(db: Knex, endpointId: string, opts: { limit: number; beforeId?: number }): Promise<WebhookAttempt[]> {
  const q = db('webhook_attempts').where({ endpoint_id: endpointId }).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) q.where('id', '<', opts.beforeId);
  return (await q).map(toAttempt);
}

/** Events after `cursor` already acknowledged by the endpoint since its last replay. */
export async function deliveredSeqs(db: Knex, endpointId: string, cursor: number, since: Date): Promise<Set<number>> {
  const seqs: number[] = await db('webhook_attempts')
    .where({ endpoint_id: endpointId, ok: true })
    .where('event_seq', '>', cursor)
    .where('attempted_at', '>=', since)
    .pluck('event_seq');
  return new Set(seqs.map(Number));
}

/** Removes an endpoint just inserted whose delivery run could not be started (nothing was delivered, its secret never shown). */
export async function discardEndpoint(db: Knex, shopId: string, endpointId: string): Promise<void> {
  await db('webhook_endpoints').where({ shop_id: shopId, id: endpointId }).delete();
}
