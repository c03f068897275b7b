import { createHash } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { postgresRateLimitStore } from './rate-limit-store';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppDeps } from './context';
import { authenticateShop } from './auth';
import { ApiError, registerErrorHandling } from './errors';
import { catalogueErrors } from './error-catalogue';
import { registerStrictValidation } from './validation';
import { registerComponents } from './components';
import { cachedSerializerFactory } from './serializers';
import { registerMetrics } from './metrics';
import { describeIdempotencyHeader, registerIdempotency } from './idempotency';
import adminRoutes from './routes/admin';
import agentRoutes from './routes/agents';
import keyRoutes from './routes/keys';
import distributionRoutes from './routes/distribution';
import groupRoutes from './routes/groups';
import poolRoutes from './routes/pools';
import healthRoutes from './routes/health';
import sessionRoutes from './routes/sessions';
import handoffRoutes from './routes/handoffs';
import reportRoutes from './routes/reports';
import eventRoutes from './routes/events';
import webhookRoutes from './routes/webhooks';
import { PgListener } from '../db/notifications';
import shopRoutes from './routes/shop';
import settingsRoutes from './routes/settings';
import meRoutes from './routes/me';
import { registerConsole } from './console';

const BODY_LIMIT_BYTES = 256 * 1024;
/** Per-key request budget; 0 turns limiting off (benchmarks). */
export const RATE_LIMIT_PER_MINUTE_DEFAULT = 6000;
/** Every Temporal call a request makes ends by then: an outage is a prompt 503, not a hang. */
export const TEMPORAL_CALL_DEADLINE_MS = 6_000;
/**
 * What docs/api.md promises, measured by test/api/outages.test.ts with Temporal gone: a route that
 * needs it answers 503 within this (7–11.5 s measured here: a route may make a
 * second call after the first one's deadline, and the connection's last attempt runs on); a session start within SESSION_START_OUTAGE_ANSWER_MS (it waits up
 * to SESSION_OPEN_WAIT_MS for its run: ≈ 19–21 s here).
 */
export const TEMPORAL_OUTAGE_ANSWER_MS = 15_000;
export const SESSION_START_OUTAGE_ANSWER_MS = 25_000;

/**
 * Every documented route names its operationId (the typed client and generated SDKs call it by that
 * name): one without it fails the app's start, naming the route, instead of shipping an invented id.
 */
function assertOperationId(route: RouteOptions): void {
  const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
  if (methods.length === 0 || route.schema?.hide) return;
  if (!(route.schema as { operationId?: string } | undefined)?.operationId) {
    throw new Error(
      `route ${methods.join(',')} ${route.url} has no operationId: give its schema one (or hide: true to leave it undocumented)`,
    );
  }
}

/** Answers 431 / 400 in the documented error shape when Node's HTTP parser refuses a request. */
function clientErrorHandler(err: Error & { code?: string }, socket: import('node:net').Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    error: {
      code: tooLarge ? 'headers_too_large' : 'bad_http_request',
      message: tooLarge ? 'request line or headers too large' : 'malformed HTTP request',
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Builds the HTTP app without listening: the server process listens, tests use `inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel === 'silent' ? false : { level: deps.logLevel ?? 'info' },
    // Fastify's two JSON lines per request flood a terminal; one short line below instead, at debug
    // unless ACCESS_LOG=1. Business events, warnings and errors keep their levels.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    clientErrorHandler,
    // Behind start:cluster's HAProxy (on loopback) req.ip is the caller from X-Forwarded-For, so
    // callers without a key keep budgets of their own; nothing else is trusted to set it.
    trustProxy: ['127.0.0.1', '::1'],
    // Long enough that an over-long id reaches schema validation (400) rather than the router (414).
    routerOptions: { maxParamLength: 1000 },
    schemaController: { compilersFactory: { buildSerializer: cachedSerializerFactory } },
    // The router's own refusals (undecodable URL, over-long parameter) in the documented shape.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as import('fastify').FastifyReply)
        .code(tooLong ? 414 : 400)
        .send({ error: { code: tooLong ? 'uri_too_long' : 'invalid_url', message: err.message.slice(0, 200) } });
    },
  });
  registerStrictValidation(app);
  const accessLevel = deps.accessLog ? 'info' : 'debug';
  app.addHook('onResponse', async (req, reply) => {
    req.log[accessLevel]({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // Which methods each path answers, so an undeclared method is a 405 with Allow, not a 404.
  const methodsByPath = FindMyWay({ ignoreTrailingSlash: false, maxParamLength: 1000 });
  app.decorate('allowedMethods', (url: string) => {
    const path = url.split('?')[0];
    return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => methodsByPath.find(m as HTTPMethod, path) !== null);
  });
  app.addHook('onRoute', (route) => {
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      if (m !== 'HEAD' && !methodsByPath.hasRoute(m as HTTPMethod, route.url))
        methodsByPath.on(m as HTTPMethod, route.url, () => undefined);
    }
    const client = deps.temporal.client;
    // API routes only: the console's static files answer from a stream the wrapper would not wait for.
    if (typeof client.withDeadline === 'function' && route.url.startsWith('/v1/')) {
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, req, reply) {
        return client.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, async () => handler.call(this, req, reply));
      };
    }
    describeIdempotencyHeader(route);
    catalogueErrors(route);
    assertOperationId(route);
  });
  const perMinute = deps.rateLimitPerMinute ?? RATE_LIMIT_PER_MINUTE_DEFAULT;
  if (perMinute > 0) {
    const store = postgresRateLimitStore(deps.db);
    app.addHook('onClose', () => store.close());
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      // Shared by every API process; with Postgres down the request goes on (and its route answers 503).
      store: store.Store,
      skipOnError: true,
      // Per credential (the key's hash, never the key), else per address.
      keyGenerator: (req) => {
        const auth = req.headers.authorization;
        return auth ? `key:${createHash('sha256').update(auth).digest('base64url')}` : `ip:${req.ip}`;
      },
      allowList: (req) => req.url === '/healthz' || req.url === '/livez' || req.url === '/readyz' || req.url === '/metrics',
      errorResponseBuilder: (_req, ctx) =>
        new ApiError('rate_limited', `more than ${ctx.max} requests a minute with this key; retry after ${ctx.after}`, 429),
    });
  }
  app.decorate('deps', deps);
  let listener: PgListener | undefined;
  app.decorate('pgListener', () => (listener ??= PgListener.forDb(deps.db)));
  app.addHook('onClose', async () => {
    await listener?.close();
  });
  app.decorateRequest('credential', null);
  registerErrorHandling(app);
  registerIdempotency(app);
  registerComponents(app);
  app.decorate('metricsRegistry', registerMetrics(app));
  // Every log line of a request names the shop, session, agent… its path is about.
  app.addHook('preHandler', async (req) => {
    const p = req.params as Record<string, string> | undefined;
    if (p && Object.keys(p).length)
      req.log = req.log.child(
        Object.fromEntries(
          Object.entries(p).filter(([k]) => ['shopId', 'sessionId', 'agentId', 'groupId', 'endpointId', 'runId'].includes(k)),
        ),
      );
  });

  await app.register(swagger, {
    // Shared schemas keep their $id as their component name (Error, ShopEvent, …).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      servers: [{ url: 'http://127.0.0.1:3000', description: 'npm start on this machine' }],
      openapi: '3.0.3',
      info: {
        title: 'Customer-service session orchestration API',
        version: '1.0.0',
        description:
          'Sessions are Temporal workflows; lists and records come from Postgres. Errors are `{ "error": { "code", "message" } }` with stable codes.',
      },
      components: {
        securitySchemes: {
          shopKey: { type: 'http', scheme: 'bearer', description: "A shop's API key; reaches only that shop's data" },
          adminToken: { type: 'http', scheme: 'bearer', description: 'Platform operator token (ADMIN_TOKEN)' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes);
  await app.register(adminRoutes, { prefix: '/v1/admin' });
  await app.register(meRoutes, { prefix: '/v1' });
  await registerConsole(app);
  await app.register(
    async (shop) => {
      // One place decides who may touch /v1/shops/:shopId/**.
      shop.addHook('onRequest', authenticateShop);
      await shop.register(shopRoutes);
      await shop.register(sessionRoutes);
      await shop.register(handoffRoutes);
      await shop.register(settingsRoutes);
      await shop.register(agentRoutes);
      await shop.register(groupRoutes);
      await shop.register(poolRoutes);
      await shop.register(distributionRoutes);
      await shop.register(keyRoutes);
      await shop.register(eventRoutes);
      await shop.register(reportRoutes);
      await shop.register(webhookRoutes);
    },
    { prefix: '/v1/shops/:shopId' },
  );
  return app;
}
