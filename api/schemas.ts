import { ApiError } from './errors';
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX } from '../domain/limits';

/** JSON-schema pieces shared by routes. */
export const SHOP_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

import { externalId } from '../contracts/shapes';

export { externalId };

export const shopParams = {
  type: 'object',
  required: ['shopId'],
  properties: { shopId: { type: 'string', pattern: SHOP_ID_PATTERN } },
} as const;

/** A session's path: /v1/shops/:shopId/sessions/:sessionId/… */
export const sessionParams = {
  type: 'object',
  required: ['shopId', 'sessionId'],
  properties: { ...shopParams.properties, sessionId: externalId },
} as const;

/** A row id in a path or a paging cursor: what Postgres's bigint and a JSON number both hold exactly. */
export const rowId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: PAGE_SIZE_DEFAULT },
  cursor: { type: 'string', description: 'Opaque cursor from the previous page' },
} as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  422: { $ref: 'Error#' },
} as const;

export const securedByShopKey = [{ shopKey: [] }];

export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, isValid: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new ApiError('invalid_cursor', 'cursor is not one this API issued');
}
