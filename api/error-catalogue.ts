/**
 * Which error codes each operation can answer, per status, as enums in the OpenAPI description:
 * what every route of its kind can answer (credentials, validation, rate limit, outages, body
 * parsing) plus what the route itself declares in `config.errors`. A route's generic `$ref: Error#`
 * responses are replaced by these when it is registered, so the description and the routes cannot
 * drift apart; under CS_STRICT_ERROR_CODES (the test command) an answer with an undeclared code is
 * turned into a 500, so every test checks the catalogue as a side effect.
 */
import type { FastifyRequest, RouteOptions } from 'fastify';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** Route config: codes this route answers beyond those of every route of its kind. */
export type DeclaredErrors = Partial<Record<ErrorStatus, readonly string[]>>;

const DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'The request is invalid; nothing changed',
  401: 'No valid API key',
  403: 'The key may not do this',
  404: 'Not found',
  409: 'Conflicts with the current state; nothing changed',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'A platform rule that cannot be changed',
  429: 'Too many requests with this key; see Retry-After',
  503: 'A dependency is unavailable; repeat after Retry-After',
};

const SUCCESS: Record<number, string> = {
  200: 'Done; the answer describes the result',
  201: 'Created',
  202: 'Accepted: the run takes it up at once, the answer does not wait for it',
  204: 'Done; no content',
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** What every operation of this kind can answer. */
function baseCodes(method: string, url: string, config: { allowAgentKey?: boolean; idempotent?: boolean }): DeclaredErrors {
  const body = BODY_METHODS.has(method);
  const shopRoute = url.startsWith('/v1/shops/');
  const entity = /\/:(?!shopId)\w+/.test(url);
  const idem = config.idempotent === true;
  return {
    400: ['invalid_request', 'invalid_string', ...(body ? ['invalid_json'] : []), ...(idem ? ['invalid_idempotency_key'] : [])],
    401: ['unauthorized'],
    ...(shopRoute ? { 403: ['shop_forbidden', 'merchant_only', ...(config.allowAgentKey ? ['agent_forbidden'] : [])] } : {}),
    ...(entity ? { 404: ['not_found'] } : {}),
    // Unique / foreign-key / check clashes of a write.
    ...(method !== 'GET'
      ? {
          409: [
            'already_exists',
            'reference_conflict',
            'constraint_violation',
            ...(idem ? ['idempotency_key_in_progress', 'idempotency_key_reused'] : []),
          ],
        }
      : {}),
    ...(body ? { 413: ['payload_too_large'], 415: ['unsupported_media_type'] } : {}),
    429: ['rate_limited'],
    503: ['database_unavailable', 'temporal_unavailable'],
  };
}

/** Every error body the API sends: a stable machine code and a human message. */
export const errorBodySchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code (see the README for the list per area)' },
        message: { type: 'string' },
        details: { description: 'More about the failure, e.g. the validation errors or the messages not taken' },
      },
    },
  },
} as const;

/** The error body of one operation and status: the shared shape with that status's codes as an enum. */
function errorSchema(status: ErrorStatus, codes: string[]) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { $id: _id, ...body } = errorBodySchema;
  const error = body.properties.error;
  return {
    ...body,
    description: DESCRIPTIONS[status],
    properties: { error: { ...error, properties: { ...error.properties, code: { type: 'string', enum: codes } } } },
  };
}

const isGenericError = (s: unknown): boolean => typeof s === 'object' && s !== null && (s as { $ref?: string }).$ref === 'Error#';

/** onRoute: turns a route's generic error responses into its own catalogue. */
export function catalogueErrors(route: RouteOptions): void {
  const schema = route.schema as { response?: Record<string, unknown>; hide?: boolean } | undefined;
  if (!schema?.response || schema.hide || !route.url.startsWith('/v1/')) return;
  const method = Array.isArray(route.method) ? route.method[0] : route.method;
  const config = (route.config ?? {}) as { allowAgentKey?: boolean; idempotent?: boolean; errors?: DeclaredErrors };
  const merged = new Map<ErrorStatus, Set<string>>();
  for (const source of [baseCodes(method, route.url, config), config.errors ?? {}]) {
    for (const [status, codes] of Object.entries(source) as [string, readonly string[]][]) {
      const set = merged.get(Number(status) as ErrorStatus) ?? new Set<string>();
      for (const c of codes) set.add(c);
      merged.set(Number(status) as ErrorStatus, set);
    }
  }
  for (const key of Object.keys(schema.response)) if (isGenericError(schema.response[key])) delete schema.response[key];
  // Success answers are described too (else the description says "Default Response").
  for (const [key, value] of Object.entries(schema.response)) {
    const status = Number(key);
    if (status >= 200 && status < 300 && typeof value === 'object' && value !== null && !('description' in value)) {
      schema.response[key] = { ...(value as object), description: SUCCESS[status] ?? 'Success' };
    }
  }
  for (const [status, codes] of [...merged].sort(([a], [b]) => a - b))
    schema.response[String(status)] = errorSchema(status, [...codes].sort());
}

/** The codes the route declared for this status, or null when the request matched no operation. */
export function declaredCodes(req: FastifyRequest, status: number): string[] | null {
  const schema = req.routeOptions?.schema as
    { response?: Record<string, { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }> } | undefined;
  if (!req.routeOptions?.url?.startsWith('/v1/') || !schema?.response) return null;
  return schema.response[String(status)]?.properties?.error?.properties?.code?.enum ?? [];
}

export const STRICT_ERROR_CODES = process.env.CS_STRICT_ERROR_CODES === '1';
