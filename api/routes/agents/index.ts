import type { FastifyInstance } from 'fastify';
import { createAgent, getAgent, listAgents, updateAgent, type AgentChange } from '../../../db/repositories/agents';
import { issueApiKey } from '../../../db/repositories/api-keys';
import { AGENT_CAPACITY_DEFAULT } from '../../../domain/limits';
import { AGENT_KEY_ALLOWED, assertMayActOnAgent } from '../../auth';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import { createAgentSchema, listAgentsSchema, getAgentSchema, updateAgentSchema } from './schemas';

export default async function agentRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.post(
    '/agents',
    {
      config: { idempotent: true },
      schema: createAgentSchema,
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
      schema: listAgentsSchema,
    },
    async (req) => ({ items: await listAgents(app.deps.db, req.params.shopId) }),
  );

  app.get(
    '/agents/:agentId',
    {
      config: AGENT_KEY_ALLOWED,
      schema: getAgentSchema,
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
      schema: updateAgentSchema,
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
