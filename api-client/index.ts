/**
 * A typed client of this API, generated from its OpenAPI description (schema.ts) and driven by
 * openapi-fetch: `createApiClient(baseUrl, key).GET('/v1/shops/{shopId}/sessions', { params: … })`.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export type { components, paths } from './schema';

export function createApiClient(baseUrl: string, key?: string) {
  return createClient<paths>({ baseUrl, headers: key ? { authorization: `Bearer ${key}` } : {} });
}
