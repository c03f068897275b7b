/**
 * The named schemas of the API (OpenAPI components), registered once on the root instance: an
 * encapsulated plugin that adds a schema gets a fresh validator and would lose the strict one.
 */
import type { FastifyInstance } from 'fastify';
import {
  agentShape,
  distributionRunShape,
  liveSessionShape,
  offlineMessageShape,
  routingGroupShape,
  serviceFiguresShape,
  serviceReportRowShape,
  sessionShape,
  shopEventShape,
  transferShape,
  webhookAttemptShape,
  webhookEndpointShape,
} from '../contracts/shapes';

export function registerComponents(app: FastifyInstance): void {
  for (const schema of [
    agentShape,
    shopEventShape,
    sessionShape,
    liveSessionShape,
    webhookEndpointShape,
    webhookAttemptShape,
    routingGroupShape,
    distributionRunShape,
    offlineMessageShape,
    transferShape,
    serviceFiguresShape,
    serviceReportRowShape,
  ])
    app.addSchema(schema);
}
