/** Response schemas of the health routes: the OpenAPI description. */
import { WORKER_POLL_FRESH_MS } from './checks';

export const dependency = { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } } } as const;

export const getHealthSchema = {
  operationId: 'getHealth',
  tags: ['health'],
  summary: 'Reachability of Postgres and Temporal; 503 when either is down',
  response: {
    200: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency } },
    503: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency } },
  },
} as const;

export const getLivenessSchema = {
  operationId: 'getLiveness',
  tags: ['health'],
  summary: 'The API process is up (no dependency checked)',
  response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
} as const;

export const getReadinessSchema = {
  operationId: 'getReadiness',
  tags: ['health'],
  summary: 'Ready to serve: Postgres, Temporal, and a worker polling the task queue; 503 otherwise',
  description: `A worker counts while it has polled the task queue within the last ${WORKER_POLL_FRESH_MS / 1000} s, so a stopped worker turns this 503 within that time.`,
  response: {
    200: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency, worker: dependency } },
    503: { type: 'object', properties: { ok: { type: 'boolean' }, postgres: dependency, temporal: dependency, worker: dependency } },
  },
} as const;
