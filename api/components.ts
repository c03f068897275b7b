/**
 * The named schemas of the API (OpenAPI components), registered once on the root instance: an
 * encapsulated plugin that adds a schema gets a fresh validator and would lose the strict one.
 */
import type { FastifyInstance } from 'fastify';
import { agentSchemaDef } from './routes/agents';
import { shopEventSchema } from './routes/events';
import { sessionRecordSchemaDef, liveViewSchemaDef } from './routes/sessions';
import { endpointSchema, attemptSchema } from './routes/webhooks';
import { groupSchemaDef } from './routes/groups';
import { runSchemaDef } from './routes/distribution';
import { offlineMessageSchemaDef } from './routes/pools';

export function registerComponents(app: FastifyInstance): void {
  for (const schema of [agentSchemaDef, shopEventSchema, sessionRecordSchemaDef, liveViewSchemaDef, endpointSchema, attemptSchema, groupSchemaDef, runSchemaDef, offlineMessageSchemaDef]) app.addSchema(schema);
}
