/**
 * `Idempotency-Key` on the routes that create or trigger something (config `idempotent: true`): a
 * repeat of a request with the same key and the same body gets the first answer again
 * (`Idempotent-Replayed: true`), without running twice. The key is claimed before the work runs, so
 * concurrent repeats wait their turn (`409 idempotency_key_in_progress`, retryable); the same key with
 * another body is `409 idempotency_key_reused`. An answer a retry may change — a 5xx (an outage), a
 * 409 or a 429 — is not kept: the claim is released and the retry runs. Keys live for a day, per shop
 * per credential (the calling key, or the admin token) and operation. Without the header a route behaves as before.
 *
 * A first answer may carry a secret shown once (an API key, a webhook secret), so nothing readable
 * is stored: the row holds a hash of the key and the answer encrypted with a key derived from the
 * Idempotency-Key itself — only a caller presenting that key again can read it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../db/repositories/idempotency';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '../domain/limits';
import type { SecretBox } from '../infra/secret-box';
import { ApiError } from './errors';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]+$/;

/** The header, as the OpenAPI description shows it on every idempotent route. */
export const idempotencyHeaderSchema = {
  type: 'string',
  minLength: 1,
  maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
  pattern: '^[\\x21-\\x7e]+$',
  description: `Repeat the request with the same key and body to get the first answer again, without running it twice (kept 24 h). Printable ASCII, at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`,
} as const;

/** onRoute: an idempotent route documents the header. */
export function describeIdempotencyHeader(route: RouteOptions): void {
  if (!(route.config as { idempotent?: boolean } | undefined)?.idempotent || !route.schema) return;
  const schema = route.schema as { headers?: { type?: string; properties?: Record<string, unknown> } };
  schema.headers = {
    type: 'object',
    ...schema.headers,
    properties: { ...(schema.headers?.properties ?? {}), [IDEMPOTENCY_HEADER]: idempotencyHeaderSchema },
  };
}

/** Keyed by the server's secret box when there is one (WEBHOOK_SECRET_KEY), so a stolen table cannot be tested against guessed keys. */
const digest = (box: SecretBox | undefined, label: string, key: string) =>
  box ? box.derive(label, key) : createHash('sha256').update(`${label}\0${key}`).digest();

/** AES-256-GCM under a key derived from the Idempotency-Key: iv.tag.ciphertext, base64url. */
function seal(box: SecretBox | undefined, key: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', digest(box, 'cs-idempotency-seal', key), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

function open(box: SecretBox | undefined, key: string, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', digest(box, 'cs-idempotency-seal', key), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

interface Held {
  scope: string;
  key: string;
  keyHash: string;
}
const held = new WeakMap<FastifyRequest, Held>();

/**
 * A stable id for the work a held Idempotency-Key protects, for a dependency that deduplicates on
 * its own (a Temporal update id): a retry after a 503 whose work did reach Temporal joins it instead
 * of running it twice. Undefined without the header.
 */
export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const h = held.get(req);
  return h ? `${h.scope.split(' ')[0]}:${h.keyHash}` : undefined;
}

const KEEP = (status: number) => status < 500 && status !== 409 && status !== 429;

export function registerIdempotency(app: FastifyInstance): void {
  // After authentication and validation: only a request that would run claims a key.
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config.idempotent) return;
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!key || key.length > IDEMPOTENCY_KEY_MAX_LENGTH || !KEY_PATTERN.test(key)) {
      throw new ApiError(
        'invalid_idempotency_key',
        `Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters`,
        400,
      );
    }
    const scope = `${req.credential?.keyId ?? 'admin'} ${req.method} ${req.routeOptions.url}`;
    const hash = createHash('sha256')
      .update(JSON.stringify({ params: req.params ?? null, query: req.query ?? null, body: req.body ?? null }))
      .digest('base64url');
    const box = req.server.deps.webhooks?.box;
    const keyHash = digest(box, 'cs-idempotency-key', key).toString('base64url');
    const claim = await claimIdempotencyKey(req.server.deps.db, scope, keyHash, hash, new Date());
    if (claim.kind === 'mismatch') throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was used with another request', 409);
    if (claim.kind === 'in_progress') {
      void reply.header('retry-after', '1');
      throw new ApiError('idempotency_key_in_progress', 'a request with this Idempotency-Key is still running; repeat it shortly', 409);
    }
    if (claim.kind === 'replay') {
      return reply
        .code(claim.statusCode)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(open(box, key, claim.response));
    }
    held.set(req, { scope, key, keyHash });
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const h = held.get(req);
    if (!h) return payload;
    held.delete(req);
    if (KEEP(reply.statusCode) && typeof payload === 'string')
      await completeIdempotencyKey(
        req.server.deps.db,
        h.scope,
        h.keyHash,
        reply.statusCode,
        seal(req.server.deps.webhooks?.box, h.key, payload),
      );
    else await releaseIdempotencyKey(req.server.deps.db, h.scope, h.keyHash);
    return payload;
  });
  // A request that never reached onSend (the client went away mid-way) frees its key.
  app.addHook('onResponse', async (req) => {
    const h = held.get(req);
    if (h) await releaseIdempotencyKey(req.server.deps.db, h.scope, h.keyHash).catch(() => undefined);
  });
}
