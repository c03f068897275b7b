import type { FastifyInstance } from 'fastify';
import { createGroup, getGroup, setGroupMembers } from '../../../db/repositories/agents';
import { ApiError, notFound } from '../../errors';
import { errorResponses, externalId, securedByShopKey, shopParams } from '../../schemas';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { typed } from '../../typed';

const scopes = {
  type: 'array',
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
  items: externalId,
  description: 'Reception scope (接待范围): the session topics this group serves, e.g. presales',
} as const;
const agentIds = { type: 'array', maxItems: 1000, uniqueItems: true, items: externalId } as const;

const groupSchema = { $ref: 'RoutingGroup#' } as const;

/** Postgres SQLSTATE for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

const groupParams = {
  type: 'object',
  required: ['shopId', 'groupId'],
  properties: { ...shopParams.properties, groupId: externalId },
} as const;

export default async function groupRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.post(
    '/groups',
    {
      config: { idempotent: true, errors: { 400: ['unknown_agents'], 409: ['group_exists'] } },
      schema: {
        operationId: 'createGroup',
        tags: ['groups'],
        summary: 'Create a routing group (分流分组) with its reception scope and members',
        security: securedByShopKey,
        params: shopParams,
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, scopes, agentIds },
        },
        response: { 201: groupSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      // The (shop, name) unique constraint decides, so two concurrent creations cannot both pass a check.
      const group = await createGroup(app.deps.db, req.params.shopId, req.body).catch((err: { code?: string; constraint?: string }) => {
        if (err.code === UNIQUE_VIOLATION && err.constraint === 'agent_groups_shop_id_name_unique') {
          throw new ApiError('group_exists', `a group named ${JSON.stringify(req.body.name)} exists`, 409);
        }
        throw err;
      });
      return reply.code(201).send(group);
    },
  );

  app.get(
    '/groups',
    {
      config: AGENT_KEY_ALLOWED,
      schema: {
        operationId: 'listGroups',
        tags: ['groups'],
        summary: "The shop's routing groups (an agent's key reads it too, to pick a transfer target)",
        security: securedByShopKey,
        params: shopParams,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: groupSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const ids: string[] = await app.deps.db('agent_groups').where({ shop_id: req.params.shopId }).orderBy('created_at').pluck('id');
      const items = await Promise.all(ids.map((id) => getGroup(app.deps.db, req.params.shopId, id)));
      return { items };
    },
  );

  app.patch(
    '/groups/:groupId',
    {
      config: { errors: { 409: ['group_exists'] } },
      schema: {
        operationId: 'updateGroup',
        tags: ['groups'],
        summary: 'Rename a group or change its reception scope',
        security: securedByShopKey,
        params: groupParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, scopes },
        },
        response: { 200: groupSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { shopId, groupId } = req.params;
      const updated = await app.deps.db('agent_groups').where({ id: groupId, shop_id: shopId }).update(req.body);
      if (updated === 0) throw notFound(`group ${groupId}`);
      return getGroup(app.deps.db, shopId, groupId);
    },
  );

  app.put(
    '/groups/:groupId/members',
    {
      config: { errors: { 400: ['unknown_agents'] } },
      schema: {
        operationId: 'setGroupMembers',
        tags: ['groups'],
        summary: "Replace a group's members (agents of this shop only)",
        security: securedByShopKey,
        params: groupParams,
        body: { type: 'object', required: ['agentIds'], additionalProperties: false, properties: { agentIds } },
        response: { 200: groupSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { shopId, groupId } = req.params;
      await app.deps.db.transaction(async (tx) => {
        const group = await tx('agent_groups').where({ id: groupId, shop_id: shopId }).forUpdate().first('id');
        if (!group) throw notFound(`group ${groupId}`);
        await setGroupMembers(tx, shopId, groupId, req.body.agentIds);
      });
      return getGroup(app.deps.db, shopId, groupId);
    },
  );
}
