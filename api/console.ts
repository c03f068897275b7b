import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build:console` writes the bundle (console/vite.config.ts says the same). */
export const CONSOLE_DIST = path.resolve(__dirname, '..', 'console', 'dist');

/** The console's pages only talk to this origin; antd injects its styles at run time. */
const CONSOLE_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** Serves the web console at /console/ (hash routes, so every page is index.html plus its bundle). */
export async function registerConsole(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/'));
  if (!existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
    const notBuilt = {
      error: { code: 'console_not_built', message: 'the console bundle is missing: run `npm run build:console` (npm start does it)' },
    };
    app.get('/console/*', { schema: { hide: true } }, async (_req, reply) => reply.code(503).send(notBuilt));
    app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.code(503).send(notBuilt));
    return;
  }
  await app.register(async (scope) => {
    scope.addHook('onSend', async (req, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      // Hashed assets never change; index.html must be re-read to pick up a new build.
      reply.header('cache-control', req.url.startsWith('/console/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    });
    await scope.register(fastifyStatic, { root: CONSOLE_DIST, prefix: '/console/', redirect: true, cacheControl: false });
  });
}
