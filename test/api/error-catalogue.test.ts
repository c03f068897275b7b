/**
 * The error catalogue keeps the OpenAPI description honest: an operation's answer with a code its
 * catalogue does not list is a test failure (a 500 under CS_STRICT_ERROR_CODES, which the test
 * command sets), and declared codes pass untouched.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { catalogueErrors } from '../../api/error-catalogue';
import { ApiError, registerErrorHandling } from '../../api/errors';

async function appWith(thrown: ApiError) {
  const app = Fastify();
  app.decorate('allowedMethods', () => ['GET']);
  app.addHook('onRoute', catalogueErrors);
  registerErrorHandling(app);
  app.get(
    '/v1/shops/:shopId/thing',
    { config: { errors: { 409: ['thing_taken'] } }, schema: { response: { 200: { type: 'object' }, 400: { $ref: 'Error#' } } } },
    async () => {
      throw thrown;
    },
  );
  await app.ready();
  return app;
}

describe('error catalogue', () => {
  it('runs strict in the test command', () => {
    expect(process.env.CS_STRICT_ERROR_CODES).toBe('1');
  });

  it('a declared code is answered as is', async () => {
    const app = await appWith(new ApiError('thing_taken', 'taken', 409));
    const res = await app.inject({ method: 'GET', url: '/v1/shops/s/thing' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('thing_taken');
  });

  it('an undeclared code, or a status the operation does not list, fails loudly', async () => {
    for (const err of [new ApiError('surprise', 'not in the catalogue', 409), new ApiError('gone', 'no 410 listed', 410)]) {
      const app = await appWith(err);
      const res = await app.inject({ method: 'GET', url: '/v1/shops/s/thing' });
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('undeclared_error_code');
    }
  });
});
