/** Request and response schemas of the events routes: validation, types and the OpenAPI description. */
import { EVENT_TYPES } from '../../../domain/events';
import { PAGE_SIZE_MAX } from '../../../domain/limits';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';

export const CURSOR_MAX = Number.MAX_SAFE_INTEGER;

export const typesParam = {
  type: 'string',
  maxLength: 400,
  pattern: `^(${EVENT_TYPES.map((t) => t.replace(/\./g, '\\.')).join('|')})(,(${EVENT_TYPES.map((t) => t.replace(/\./g, '\\.')).join('|')}))*$`,
  description: `Comma-separated event types to keep (${EVENT_TYPES.join(', ')}); default all`,
} as const;

export const listEventsSchema = {
  tags: ['events'],
  operationId: 'listEvents',
  summary: "The shop's event log after a cursor, oldest first",
  description:
    "Poll with `after` = the `nextCursor` of the previous page. Every change is here, written in the same transaction as the change. An agent's key reads only the events that name that agent.",
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      after: {
        type: 'integer',
        minimum: 0,
        maximum: CURSOR_MAX,
        default: 0,
        description: 'Return events with seq greater than this',
      },
      limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: 100 },
      types: typesParam,
      sessionId: { ...externalId, description: "Only this session's events (its timeline)" },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items', 'nextCursor', 'hasMore'],
      properties: {
        items: { type: 'array', items: { $ref: 'ShopEvent#' } },
        nextCursor: { type: 'integer', description: 'Pass as `after` for the next page' },
        hasMore: { type: 'boolean' },
      },
    },
    ...errorResponses,
  },
} as const;

export const streamEventsSchema = {
  tags: ['events'],
  operationId: 'streamEvents',
  summary: "The shop's events as Server-Sent Events",
  description:
    'Each message has `id` = the event seq, `event` = its type and `data` = the event JSON. Reconnect with the `Last-Event-ID` header (or `after`) to resume without gaps. The server closes the stream after `maxSeconds`; clients reconnect.',
  security: securedByShopKey,
  params: shopParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      after: {
        type: 'integer',
        minimum: 0,
        maximum: CURSOR_MAX,
        description: 'Start after this seq (default: Last-Event-ID, else from now)',
      },
      types: typesParam,
      maxSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 900 },
    },
  },
  response: {
    200: {
      description: 'A stream of events: `id: <seq>`, `event: <type>`, `data: <ShopEvent JSON>`',
      content: { 'text/event-stream': { schema: {} } },
    },
    ...errorResponses,
  },
} as const;
