/**
 * The console's only way to the server: the typed client generated from the served OpenAPI
 * (api-client/), with the signed-in key. The key lives in sessionStorage: gone with the tab, never
 * in a URL.
 */
import { createApiClient, type components } from '../../api-client';

export type Api = ReturnType<typeof createApiClient>;
export type Schemas = components['schemas'];

const KEY_STORAGE = 'cs.console.key';

export const storedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const storeKey = (key: string): void => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY_STORAGE);

export function apiFor(key: string): Api {
  return createApiClient(window.location.origin, key);
}

/** A 4xx/5xx from the API, carrying its stable code. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Unwraps an openapi-fetch answer: its data, or an ApiFailure in the API's error shape. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const body = (error ?? {}) as { error?: { code?: string; message?: string; details?: unknown } };
  throw new ApiFailure(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    body.error?.message ?? response.statusText,
    body.error?.details,
  );
}
