import type { FastifyRequest } from 'fastify';

/**
 * Who made a change, as recorded in settings versions, assignment records and workflow histories:
 * always the credential (key id and label); a name the caller typed is kept only as a display name.
 */
export function actorOf(req: FastifyRequest, displayName?: string): string {
  const c = req.credential;
  if (!c) return displayName ? `${displayName} (admin)` : 'admin';
  const key = `key ${c.keyId}${c.label ? ` "${c.label}"` : ''}`;
  const who = c.kind === 'agent' ? `agent ${c.agentId}` : displayName || 'merchant';
  return `${who} [${key}]`;
}
