import type { FastifyError, FastifyInstance } from 'fastify';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors';

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
        code: { type: 'string', description: 'Stable machine-readable code' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;

export class ApiError extends DomainError {}

export function notFound(what: string): ApiError {
  return new ApiError('not_found', `${what} not found`, 404);
}

/** Update validators and handlers in workflows reject with ApplicationFailure; its type is our code. */
function fromUpdateFailure(err: WorkflowUpdateFailedError): ApiError | null {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type) {
    return new ApiError(cause.type, cause.message, cause.type === 'session_closed' || cause.type === 'session_not_queued' ? 409 : 400);
  }
  return null;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorBodySchema);

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'route_not_found', message: `no route ${req.method} ${req.url}` } });
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if ('validation' in err && err.validation) {
      return reply.code(400).send({ error: { code: 'invalid_request', message: err.message, details: err.validation } });
    }
    if (err instanceof DomainError) {
      return reply.code(err.httpStatus).send({ error: { code: err.code, message: err.message } });
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const mapped = fromUpdateFailure(err);
      if (mapped) return reply.code(mapped.httpStatus).send({ error: { code: mapped.code, message: mapped.message } });
    }
    if (err instanceof WorkflowNotFoundError) {
      return reply.code(409).send({ error: { code: 'session_not_live', message: 'the session run has ended' } });
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code = status === 415 ? 'unsupported_media_type' : status === 413 ? 'payload_too_large' : status < 500 ? 'bad_request' : 'internal_error';
    return reply.code(status).send({ error: { code, message: status < 500 ? err.message : 'internal error' } });
  });
}
