import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Agent, RoutingGroup } from '../../contracts/shapes';
import { DomainError } from '../../domain/errors';
import { MINUTE_MS } from '../../domain/limits';
import { appendEvent } from './events';
import { enqueueOutbox } from './outbox';
import { drainQueueForAgent, lockShopRouting, type Assignment } from './routing';
import { currentSessionSettings } from './session-settings';

import type { AgentStatus } from '../../domain/session';
export { AGENT_STATUSES, type AgentStatus } from '../../domain/session';

/** The API's Agent and RoutingGroup shapes (contracts/shapes.ts): the schemas are their one definition. */
export type { Agent };
export type AgentGroup = RoutingGroup;

interface AgentRow {
  id: string;
  shop_id: string;
  name: string;
  status: AgentStatus;
  capacity: number;
  active_sessions: number;
  last_assigned_at: Date | null;
  status_changed_at: Date;
  group_ids: string[] | null;
}

function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    shopId: row.shop_id,
    name: row.name,
    status: row.status,
    capacity: row.capacity,
    activeSessions: row.active_sessions,
    groupIds: row.group_ids ?? [],
    lastAssignedAt: row.last_assigned_at ? row.last_assigned_at.toISOString() : null,
    statusChangedAt: row.status_changed_at.toISOString(),
  };
}

function agentQuery(db: Knex, shopId: string) {
  return db('agents as a')
    .where('a.shop_id', shopId)
    .select(
      'a.*',
      db.raw(
        'COALESCE((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM agent_group_members m WHERE m.agent_id = a.id), ARRAY[]::text[]) AS group_ids',
      ),
    );
}

export async function getAgent(db: Knex, shopId: string, agentId: string): Promise<Agent | null> {
  const row = await agentQuery(db, shopId).where('a.id', agentId).first();
  return row ? toAgent(row) : null;
}

export async function listAgents(db: Knex, shopId: string): Promise<Agent[]> {
  const rows: AgentRow[] = await agentQuery(db, shopId).orderBy('a.created_at').orderBy('a.id');
  return rows.map(toAgent);
}

export async function createAgent(
  db: Knex,
  shopId: string,
  input: { name: string; capacity: number; status?: AgentStatus; id?: string },
): Promise<Agent> {
  const id = input.id ?? `agt_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await db('agents').insert({ id, shop_id: shopId, name: input.name, capacity: input.capacity, status: input.status ?? 'offline' });
  return (await getAgent(db, shopId, id))!;
}

export interface AgentChange {
  status?: AgentStatus;
  capacity?: number;
  name?: string;
}

/**
 * Changes status / capacity under the shop's routing lock. When the agent is online afterwards with
 * free seats (came online, raised capacity), the oldest queued sessions it may serve take them now.
 * Returns null when the agent is not in this shop.
 */
export async function updateAgent(
  db: Knex,
  shopId: string,
  agentId: string,
  change: AgentChange,
  at: string = new Date().toISOString(),
): Promise<{ agent: Agent; drained: Assignment[] } | null> {
  return db.transaction(async (tx) => {
    await lockShopRouting(tx, shopId);
    const current = await tx('agents').where({ id: agentId, shop_id: shopId }).forUpdate().first();
    if (!current) return null;
    const patch: Record<string, unknown> = {};
    if (change.name !== undefined) patch.name = change.name;
    if (change.capacity !== undefined) patch.capacity = change.capacity;
    if (change.status !== undefined && change.status !== current.status) {
      patch.status = change.status;
      patch.status_changed_at = at;
    }
    if (Object.keys(patch).length > 0) await tx('agents').where({ id: agentId }).update(patch);
    if (patch.status !== undefined) {
      await appendEvent(tx, shopId, {
        type: 'agent.status_changed',
        occurredAt: at,
        data: { agentId, from: current.status, to: change.status! },
      });
      await announceLeaveOrReturn(tx, shopId, agentId, current.status, change.status!, at);
    }
    const drained = await drainQueueForAgent(tx, shopId, agentId, at);
    return { agent: (await getAgent(tx, shopId, agentId))!, drained };
  });
}

/**
 * docs/rules.md §9.2: an agent who goes offline holding sessions starts the shop's grace period (when the
 * shop re-routes); one who comes back from offline (online or 小休) cancels it. The shop run owns the
 * timer; it hears of both through the outbox.
 */
async function announceLeaveOrReturn(
  tx: Knex.Transaction,
  shopId: string,
  agentId: string,
  from: AgentStatus,
  to: AgentStatus,
  at: string,
): Promise<void> {
  if (to === 'offline') {
    const [{ n }] = await tx('sessions').where({ shop_id: shopId, agent_id: agentId, status: 'active' }).count({ n: '*' });
    if (Number(n) === 0) return;
    const { agentLeft } = await currentSessionSettings(tx, shopId);
    if (agentLeft.mode !== 'reroute') return;
    await enqueueOutbox(tx, shopId, { kind: 'agent_left', shopId, agentId, since: at, graceMs: agentLeft.graceMinutes * MINUTE_MS });
  } else if (from === 'offline') {
    await enqueueOutbox(tx, shopId, { kind: 'agent_returned', shopId, agentId, at });
  }
}

export async function createGroup(
  db: Knex,
  shopId: string,
  input: { name: string; scopes: string[]; agentIds?: string[]; id?: string },
): Promise<AgentGroup> {
  const id = input.id ?? `grp_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await db.transaction(async (tx) => {
    await tx('agent_groups').insert({ id, shop_id: shopId, name: input.name, scopes: input.scopes });
    if (input.agentIds?.length) await setGroupMembers(tx, shopId, id, input.agentIds);
  });
  return (await getGroup(db, shopId, id))!;
}

/** Replaces the members; every agent must belong to the same shop (checked, not trusted). */
export async function setGroupMembers(tx: Knex, shopId: string, groupId: string, agentIds: string[]): Promise<void> {
  const unique = [...new Set(agentIds)];
  const found: string[] = await tx('agents').where({ shop_id: shopId }).whereIn('id', unique).pluck('id');
  const unknown = unique.filter((id) => !found.includes(id));
  if (unknown.length) throw new DomainError('unknown_agents', `no such agents in this shop: ${unknown.join(', ')}`);
  await tx('agent_group_members').where({ group_id: groupId }).delete();
  if (unique.length) await tx('agent_group_members').insert(unique.map((agent_id) => ({ group_id: groupId, agent_id })));
}

export async function getGroup(db: Knex, shopId: string, groupId: string): Promise<AgentGroup | null> {
  const row = await db('agent_groups').where({ id: groupId, shop_id: shopId }).first();
  if (!row) return null;
  const agentIds = await db('agent_group_members').where({ group_id: groupId }).orderBy('agent_id').pluck('agent_id');
  return { id: row.id, shopId: row.shop_id, name: row.name, scopes: row.scopes, agentIds };
}
