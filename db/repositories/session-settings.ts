import type { Knex } from 'knex';
import { BUYER_IDLE_MINUTES_DEFAULT, AGENT_REPLY_TIMEOUT_MS, MINUTE_MS } from '../../domain/limits';
import type { SessionSettings } from '../../domain/session';

interface Row {
  version: number;
  buyer_idle_minutes: number;
  changed_by: string;
  created_at: Date;
}

/** Settings in force for a shop: the newest version, or the platform default (version 0) before any change. */
export async function currentSessionSettings(db: Knex, shopId: string): Promise<SessionSettings> {
  const row: Row | undefined = await db('session_settings_versions').where({ shop_id: shopId }).orderBy('version', 'desc').first();
  return {
    version: row?.version ?? 0,
    buyerIdleMinutes: row?.buyer_idle_minutes ?? BUYER_IDLE_MINUTES_DEFAULT,
    agentReplyTimeoutMinutes: AGENT_REPLY_TIMEOUT_MS / MINUTE_MS,
    changedBy: row?.changed_by ?? 'platform default',
    changedAt: (row?.created_at ?? new Date(0)).toISOString(),
  };
}

/** Appends a new version; the shop row lock orders concurrent changes. Input is validated by the caller. */
export async function saveSessionSettings(db: Knex, shopId: string, buyerIdleMinutes: number, changedBy: string): Promise<SessionSettings> {
  return db.transaction(async (tx) => {
    await tx('shops').where({ id: shopId }).forUpdate().first();
    const current = await currentSessionSettings(tx, shopId);
    await tx('session_settings_versions').insert({
      shop_id: shopId,
      version: current.version + 1,
      buyer_idle_minutes: buyerIdleMinutes,
      changed_by: changedBy,
    });
    return currentSessionSettings(tx, shopId);
  });
}
