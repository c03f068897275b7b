import type { FastifyInstance } from 'fastify';
import { currentSessionSettings } from '../../../db/repositories/session-settings';
import { DomainError } from '../../../domain/errors';
import { AGENT_REPLY_TIMEOUT_FIXED, validateSessionSettingsChange } from '../../../domain/session';
import { updateSessionSettings } from '../../../temporal/shop-gateway';
import { actorOf } from '../../actor';
import { typed } from '../../typed';
import { getSessionSettingsSchema, updateSessionSettingsSchema } from './schemas';

export default async function settingsRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  app.get(
    '/settings/session',
    {
      schema: getSessionSettingsSchema,
    },
    async (req) => currentSessionSettings(app.deps.db, req.params.shopId),
  );

  app.put(
    '/settings/session',
    {
      config: {
        errors: {
          400: ['invalid_buyer_idle_minutes', 'invalid_agent_left_policy', 'invalid_first_reply_minutes'],
          422: ['agent_reply_timeout_not_configurable'],
        },
      },
      schema: updateSessionSettingsSchema,
    },
    async (req) => {
      const violation = validateSessionSettingsChange(req.body);
      if (violation) throw DomainError.from(violation, violation === AGENT_REPLY_TIMEOUT_FIXED ? 422 : 400);
      const { client, taskQueue } = app.deps.temporal;
      return updateSessionSettings(client, taskQueue, req.params.shopId, {
        buyerIdleMinutes: req.body.buyerIdleMinutes,
        ...(req.body.agentLeft !== undefined ? { agentLeft: req.body.agentLeft } : {}),
        ...(req.body.firstReplyMinutes !== undefined ? { firstReplyMinutes: req.body.firstReplyMinutes } : {}),
        changedBy: actorOf(req, req.body.changedBy),
      });
    },
  );
}
