import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findCredential } from '../db/repositories/api-keys';
import { ApiError } from './errors';

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : null;
}

const unauthorized = () => new ApiError('unauthorized', 'a valid API key is required (Authorization: Bearer <key>)', 401);

/** onRequest hook for routes any live shop or agent key may call (GET /v1/me). */
export async function authenticateKey(req: FastifyRequest): Promise<void> {
  const key = bearer(req);
  if (!key) throw unauthorized();
  const credential = await findCredential(req.server.deps.db, key);
  if (!credential) throw unauthorized();
  req.credential = credential;
}

/** onRequest hook for /v1/shops/:shopId/**: the key must belong to the shop named in the path. */
export async function authenticateShop(req: FastifyRequest): Promise<void> {
  await authenticateKey(req);
  const credential = req.credential!;
  const { shopId } = req.params as { shopId?: string };
  if (credential.shopId !== shopId) {
    throw new ApiError('shop_forbidden', 'this API key belongs to another shop', 403);
  }
  // Agent keys reach only routes that opt in (their own status and capacity); the rest is the merchant's.
  if (credential.kind === 'agent' && !req.routeOptions.config.allowAgentKey) {
    throw new ApiError('merchant_only', 'this operation needs the shop (merchant) key', 403);
  }
}

/** Route config for routes an agent's own key may call. */
export const AGENT_KEY_ALLOWED = { allowAgentKey: true } as const;

/** On routes open to agent keys: an agent key may act on its own agent only. */
export function assertMayActOnAgent(req: FastifyRequest, agentId: string): void {
  if (req.credential?.kind === 'agent' && req.credential.agentId !== agentId) {
    throw new ApiError('agent_forbidden', "an agent's key may change only that agent", 403);
  }
}

export async function authenticateAdmin(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const expected = req.server.deps.adminToken;
  const key = bearer(req);
  if (!expected || !key) throw new ApiError('unauthorized', 'the admin token is required', 401);
  const a = Buffer.from(key);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ApiError('unauthorized', 'the admin token is required', 401);
}
