import type { FastifyInstance } from 'fastify';
import { AGENT_STATUSES, createAgent, getAgent, listAgents, updateAgent, type AgentChange } from '../../../db/repositories/agents';
import { issueApiKey } from '../../../db/repositories/api-keys';
import { AGENT_CAPACITY_DEFAULT, AGENT_CAPACITY_MAX, AGENT_CAPACITY_MIN } from '../../../domain/limits';
import { AGENT_KEY_ALLOWED, assertMayActOnAgent } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';
import { typed } from '../../typed';

const capacity = {
  type: 'integer',
  minimum: AGENT_CAPACITY_MIN,
  maximum: AGENT_CAPACITY_MAX,
  description: `最大接待人数: concurrent live sessions, ${AGENT_CAPACITY_MIN}–${AGENT_CAPACITY_MAX}`,
} as const;
const status = {
  type: 'string',
  enum: AGENT_STATUSES,
  description: 'online: receives new sessions; suspended (小休): on a break; offline',
} as const;

const agentSchema = { $ref: 'Agent#' } as const;

const agentParams = {
  type: 'object',
  required: ['shopId', 'agentId'],
  properties: { ...shopParams.properties, agentId: externalId },
} as const;

export default async function agentRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.post(
    '/agents',
    {
      config: { idempotent: true },
      schema: {
        operationId: 'createAgent',
        tags: ['agents'],
        summary: "Create an agent (客服); the answer carries the agent's own API key, shown once",
        security: securedByShopKey,
        params: shopParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            capacity: { ...capacity, default: AGENT_CAPACITY_DEFAULT },
            status,
          },
        },
        response: { 201: { type: 'object', properties: { agent: agentSchema, apiKey: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { shopId } = req.params;
      const agent = await createAgent(app.deps.db, shopId, { name: req.body.name, capacity: req.body.capacity ?? AGENT_CAPACITY_DEFAULT });
      const apiKey = await issueApiKey(app.deps.db, shopId, 'agent', agent.id, `agent ${agent.id}`);
      // Going online goes through the same path as later changes, so a waiting queue drains at once.
      const current = req.body.status ? await changeAgent(app, shopId, agent.id, { status: req.body.status }) : agent;
      return reply.code(201).send({ agent: current, apiKey });
    },
  );

  app.get(
    '/agents',
    {
      // An agent sees its colleagues too: whom it can transfer a session to (转接).
      config: AGENT_KEY_ALLOWED,
      schema: {
        operationId: 'listAgents',
        tags: ['agents'],
        summary: "The shop's agents with status, capacity and current load (an agent's key reads it too, to pick a transfer target)",
        security: securedByShopKey,
        params: shopParams,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: agentSchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ items: await listAgents(app.deps.db, req.params.shopId) }),
  );

  app.get(
    '/agents/:agentId',
    {
      config: AGENT_KEY_ALLOWED,
      schema: {
        operationId: 'getAgent',
        tags: ['agents'],
        summary: 'One agent',
        security: securedByShopKey,
        params: agentParams,
        response: { 200: agentSchema, ...errorResponses },
      },
    },
    async (req) => {
      assertMayActOnAgent(req, req.params.agentId);
      const agent = await getAgent(app.deps.db, req.params.shopId, req.params.agentId);
      if (!agent) throw notFound(`agent ${req.params.agentId}`);
      return agent;
    },
  );

  app.patch(
    '/agents/:agentId',
    {
      config: AGENT_KEY_ALLOWED,
      schema: {
        operationId: 'updateAgent',
        tags: ['agents'],
        summary: 'Change status (online / suspended / offline), capacity or name',
        description:
          "The merchant key may change any agent of the shop; an agent's own key may change its status and capacity. Coming online or raising capacity hands free seats to the oldest queued sessions at once.",
        security: securedByShopKey,
        params: agentParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { status, capacity, name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: agentSchema, ...errorResponses },
      },
    },
    async (req) => {
      assertMayActOnAgent(req, req.params.agentId);
      if (req.credential?.kind === 'agent' && req.body.name !== undefined) {
        throw new ApiError('merchant_only', 'only the merchant may rename an agent', 403);
      }
      return changeAgent(app, req.params.shopId, req.params.agentId, req.body);
    },
  );
}

async function changeAgent(app: FastifyInstance, shopId: string, agentId: string, change: AgentChange) {
  const result = await updateAgent(app.deps.db, shopId, agentId, change);
  if (!result) throw notFound(`agent ${agentId}`);
  // Queue assignments and, with seats left, the shop run's agent-available event (docs/rules.md §3.6), go
  // out through the outbox relay after this commit: the answer does not wait for Temporal.
  return result.agent;
}
