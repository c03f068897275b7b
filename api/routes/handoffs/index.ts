/** Handoffs (docs/rules.md §9): 转接 of an active session to an agent or a routing group. */
import type { FastifyInstance } from 'fastify';
import { transferSession } from '../../../db/repositories/handoffs';
import { actorOf } from '../../actor';
import { AGENT_KEY_ALLOWED } from '../../auth';
import { securedByShopKey } from '../../schemas';
import { typed } from '../../typed';
import { sessionParams } from '../../schemas';
import { transferBody, transferResponses } from './schemas';

export default async function handoffRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);

  app.post(
    '/sessions/:sessionId/transfer',
    {
      config: { ...AGENT_KEY_ALLOWED, idempotent: true, errors: { 409: ['session_not_active', 'transfer_target_unavailable'] } },
      schema: {
        operationId: 'transferSession',
        tags: ['sessions'],
        summary: 'Transfer (转接) an active session to an agent or a routing group',
        description:
          "A merchant key may transfer any active session of the shop; an agent key only a session it holds (another's is 404). The target agent must be online with a free seat and not the holder, else 409 transfer_target_unavailable with details.reason (same_agent, offline, suspended, full; no_free_agent for a group). The old seat is freed and serves the queue at once. A transfer is not a reply: the 6 h agent-reply deadline keeps counting from the buyer's first unanswered message. Event session.transferred.",
        security: securedByShopKey,
        params: sessionParams,
        body: transferBody,
        response: transferResponses,
      },
    },
    async (req) => {
      const { shopId, sessionId } = req.params;
      const { toAgentId, toGroupId, note } = req.body;
      const { transfer, session } = await transferSession(app.deps.db, {
        shopId,
        sessionId,
        target: toAgentId !== undefined ? { toAgentId } : { toGroupId: toGroupId! },
        note: note ? note : null,
        operator: actorOf(req),
        ...(req.credential?.kind === 'agent' ? { holderMustBe: req.credential.agentId ?? '' } : {}),
        at: new Date().toISOString(),
      });
      return { session, transfer };
    },
  );
}
