import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppDeps } from './context';
import { authenticateShop } from './auth';
import { registerErrorHandling } from './errors';
import adminRoutes from './routes/admin';
import agentRoutes from './routes/agents';
import keyRoutes from './routes/keys';
import distributionRoutes from './routes/distribution';
import groupRoutes from './routes/groups';
import poolRoutes from './routes/pools';
import healthRoutes from './routes/health';
import sessionRoutes from './routes/sessions';
import eventRoutes from './routes/events';
import webhookRoutes from './routes/webhooks';
import { PgListener } from '../db/notifications';
import shopRoutes from './routes/shop';
import settingsRoutes from './routes/settings';

const BODY_LIMIT_BYTES = 256 * 1024;

/** Builds the HTTP app without listening: the server process listens, tests use `inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel === 'silent' ? false : { level: deps.logLevel ?? 'info' },
    bodyLimit: BODY_LIMIT_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.decorate('deps', deps);
  let listener: PgListener | undefined;
  app.decorate('pgListener', () => (listener ??= PgListener.forDb(deps.db)));
  app.addHook('onClose', async () => {
    await listener?.close();
  });
  app.decorateRequest('credential', null);
  registerErrorHandling(app);

  await app.register(swagger, {
    openapi: {
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
  await app.register(
    async (shop) => {
      // One place decides who may touch /v1/shops/:shopId/**.
      shop.addHook('onRequest', authenticateShop);
      await shop.register(shopRoutes);
      await shop.register(sessionRoutes);
      await shop.register(settingsRoutes);
      await shop.register(agentRoutes);
      await shop.register(groupRoutes);
      await shop.register(poolRoutes);
      await shop.register(distributionRoutes);
      await shop.register(keyRoutes);
      await shop.register(eventRoutes);
      await shop.register(webhookRoutes);
    },
    { prefix: '/v1/shops/:shopId' },
  );
  return app;
}
