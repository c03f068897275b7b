/**
 * One error shape for everything the API answers, the framework's own failures included, and one
 * place that decides which failures are the caller's (4xx, stable code), which are a dependency's
 * outage (503, retryable code, Retry-After) and which are ours (500).
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors';
import { declaredCodes, errorBodySchema, STRICT_ERROR_CODES } from './error-catalogue';

/** Seconds a caller should wait before repeating after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export class ApiError extends DomainError {}

/**
 * A field whose rule the schema states (so generated clients check it) keeps the domain's own code
 * when the schema refuses it: one rule, one code, whichever layer saw it first.
 */
const FIELD_CODES: { path: RegExp; keywords?: string[]; code: string }[] = [
  { path: /^\/buyerIdleMinutes$/, code: 'invalid_buyer_idle_minutes' },
  { path: /^\/agentLeft(\/|$)/, code: 'invalid_agent_left_policy' },
  { path: /^\/firstReplyMinutes$/, code: 'invalid_first_reply_minutes' },
  { path: /^\/settings\/windows\/\d+\/(start|end)$/, keywords: ['pattern'], code: 'window_not_on_half_hour' },
  { path: /^\/settings\/(minOnlineAgents|maxAvgPending|perAgentCap)$/, code: 'invalid_number' },
  { path: /^\/settings\/target(\/(kind|groupIds|agentIds))?$/, code: 'invalid_target' },
];

function validationCode(req: FastifyRequest, errors: { instancePath?: string; keyword?: string }[]): string {
  const first = errors[0];
  const hit = FIELD_CODES.find(
    (f) =>
      first?.instancePath !== undefined && f.path.test(first.instancePath) && (!f.keywords || f.keywords.includes(first.keyword ?? '')),
  );
  return hit && declaredCodes(req, 400)?.includes(hit.code) ? hit.code : 'invalid_request';
}

export function notFound(what: string): ApiError {
  return new ApiError('not_found', `${what} not found`, 404);
}

/** Update validators and handlers in workflows reject with ApplicationFailure; its type is our code. */
function fromUpdateFailure(err: WorkflowUpdateFailedError): ApiError | null {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type) {
    return new ApiError(
      cause.type,
      cause.message,
      ['session_closed', 'session_in_offline_pool', 'session_not_queued'].includes(cause.type) ? 409 : 400,
    );
  }
  return null;
}

const PG_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);

function isDatabaseOutage(err: Error & { code?: unknown }): boolean {
  if (err.name === 'KnexTimeoutError') return true;
  if (typeof err.code === 'string' && PG_CONNECTION_CODES.has(err.code)) return true;
  return /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    err.message,
  );
}

function isTemporalOutage(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) return true;
  if (isGrpcServiceError(err))
    return err.code === 14 /* UNAVAILABLE */ || err.code === 4 /* DEADLINE_EXCEEDED */ || err.code === 8; /* RESOURCE_EXHAUSTED */
  if (err instanceof ServiceError) return err.cause === undefined || isTemporalOutage(err.cause);
  return err instanceof Error && err.name === 'TransportError';
}

/** A Postgres error the caller's input caused: a 4xx with its own code, never a 500. */
function fromPostgres(err: Error & { code?: unknown; constraint?: string }): ApiError | null {
  switch (err.code) {
    case '23505':
      return new ApiError('already_exists', `that already exists${err.constraint ? ` (${err.constraint})` : ''}`, 409);
    case '23503':
      return new ApiError(
        'reference_conflict',
        `that refers to something that does not exist or is still referred to${err.constraint ? ` (${err.constraint})` : ''}`,
        409,
      );
    case '23514':
      return new ApiError('constraint_violation', `that breaks a rule of the data${err.constraint ? ` (${err.constraint})` : ''}`, 409);
    case '22001':
    case '22003':
    case '22P02':
    case '22021':
    case '22007':
    case '22008':
    case '54000':
      return new ApiError('invalid_request', 'a value is out of range or not representable', 400);
    default:
      return null;
  }
}

/** The framework's own 4xx (body parsing, media type, size) in our shape. */
function frameworkCode(status: number, fastifyCode: string | undefined): string {
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 406) return 'not_acceptable';
  if (status === 404) return 'route_not_found';
  if (status === 429) return 'rate_limited';
  if (fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'invalid_json';
  return 'invalid_request';
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorBodySchema);

  // Methods outside the API's vocabulary (QUERY, TRACE, …) are refused before any body parsing.
  app.addHook('onRequest', async (req, reply) => {
    if (['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(req.method)) return;
    const allowed = app.allowedMethods(req.url);
    if (allowed.length) void reply.header('allow', allowed.join(', '));
    return reply.code(405).send({ error: { code: 'method_not_allowed', message: `${req.method} is not supported` } });
  });

  app.setNotFoundHandler((req, reply) => {
    const allowed = app.allowedMethods(req.url);
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error: { code: 'method_not_allowed', message: `${req.method} is not allowed here; use ${allowed.join(', ')}` } });
      return;
    }
    void reply.code(404).send({ error: { code: 'route_not_found', message: `no route ${req.method} ${req.url.slice(0, 200)}` } });
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const send = (status: number, code: string, message: string, details?: unknown) => {
      if (status >= 400 && status < 500) req.log.info({ code, status }, 'request refused');
      const declared = status === 500 ? null : declaredCodes(req, status);
      if (declared && !declared.includes(code)) {
        // The OpenAPI description promises a closed list per operation and status.
        req.log.error({ code, status, route: req.routeOptions.url }, "error code not in the operation's catalogue");
        if (STRICT_ERROR_CODES) {
          return reply.code(500).send({
            error: {
              code: 'undeclared_error_code',
              message: `${req.method} ${req.routeOptions.url} answered ${status} ${code}, which its catalogue does not list`,
            },
          });
        }
      }
      return reply.code(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
    };
    const outage = (code: string, what: string) => {
      req.log.warn({ err, code }, `${what} unavailable`);
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return send(503, code, `${what} is unavailable; repeat the request in a few seconds`);
    };
    if ('validation' in err && err.validation) return send(400, validationCode(req, err.validation), err.message, err.validation);
    if (err instanceof DomainError) {
      if (err.httpStatus === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return send(err.httpStatus, err.code, err.message, err.details);
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const mapped = fromUpdateFailure(err);
      if (mapped) return send(mapped.httpStatus, mapped.code, mapped.message);
    }
    if (err instanceof WorkflowNotFoundError) return send(409, 'session_not_live', 'the session run has ended');
    if (isTemporalOutage(err)) return outage('temporal_unavailable', 'Temporal');
    if (isDatabaseOutage(err)) return outage('database_unavailable', 'the database');
    const pg = fromPostgres(err);
    if (pg) return send(pg.httpStatus, pg.code, pg.message);
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) {
      if (status === 429) void reply.header('retry-after', reply.getHeader('retry-after') ?? '1');
      return send(status, frameworkCode(status, 'code' in err ? (err.code as string) : undefined), err.message);
    }
    req.log.error({ err }, 'request failed');
    return send(500, 'internal_error', 'internal error');
  });
}
