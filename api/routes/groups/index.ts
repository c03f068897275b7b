import type { FastifyInstance } from 'fastify';
import { createGroup, getGroup, setGroupMembers } from '../../../db/repositories/agents';
import { ApiError, notFound } from '../../errors';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { typed } from '../../typed';
import { createGroupSchema, listGroupsSchema, updateGroupSchema, setGroupMembersSchema } from './schemas';

/** Postgres SQLSTATE for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

export default async function groupRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.post(
    '/groups',
    {
      config: { idempotent: true, errors: { 400: ['unknown_agents'], 409: ['group_exists'] } },
      schema: createGroupSchema,
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
      schema: listGroupsSchema,
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
      schema: updateGroupSchema,
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
      schema: setGroupMembersSchema,
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
