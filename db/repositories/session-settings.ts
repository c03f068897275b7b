import type { Knex } from 'knex';
import { AGENT_LEFT_GRACE_MINUTES_DEFAULT, AGENT_REPLY_TIMEOUT_MS, BUYER_IDLE_MINUTES_DEFAULT, MINUTE_MS } from '../../domain/limits';
import type { AgentLeftPolicy, SessionSettings } from '../../domain/session';

interface Row {
  version: number;
  buyer_idle_minutes: number;
  agent_left_mode: AgentLeftPolicy['mode'];
  agent_left_grace_minutes: number;
  first_reply_minutes: number | null;
  changed_by: string | null;
  created_at: Date | null;
}

/**
 * The one statement of "the settings in force" for :shopId, used on its own and inside the statement
 * that opens a session: the newest version, or the platform defaults (version 0: buyer-idle
 * BUYER_IDLE_MINUTES_DEFAULT, re-route after AGENT_LEFT_GRACE_MINUTES_DEFAULT, first reply off; no
 * author or time) before any change. Binds :shopId only.
 */
export const SETTINGS_IN_FORCE_SQL = `
  SELECT COALESCE(v.version, 0) AS version, COALESCE(v.buyer_idle_minutes, ${BUYER_IDLE_MINUTES_DEFAULT}) AS buyer_idle_minutes,
         COALESCE(v.agent_left_mode, 'reroute') AS agent_left_mode,
         COALESCE(v.agent_left_grace_minutes, ${AGENT_LEFT_GRACE_MINUTES_DEFAULT}) AS agent_left_grace_minutes,
         v.first_reply_minutes, v.changed_by, v.created_at
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
    SELECT version, buyer_idle_minutes, agent_left_mode, agent_left_grace_minutes, first_reply_minutes, changed_by, created_at
    FROM session_settings_versions WHERE shop_id = :shopId ORDER BY version DESC LIMIT 1
  ) AS v ON true`;

export async function currentSessionSettings(db: Knex, shopId: string): Promise<SessionSettings> {
  const {
    rows: [row],
  } = (await db.raw(SETTINGS_IN_FORCE_SQL, { shopId })) as { rows: Row[] };
  return {
    version: row.version,
    buyerIdleMinutes: row.buyer_idle_minutes,
    agentLeft: { mode: row.agent_left_mode, graceMinutes: row.agent_left_grace_minutes },
    firstReplyMinutes: row.first_reply_minutes,
    agentReplyTimeoutMinutes: AGENT_REPLY_TIMEOUT_MS / MINUTE_MS,
    changedBy: row.changed_by ?? 'platform default',
    changedAt: (row.created_at ?? new Date(0)).toISOString(),
  };
}

export interface SessionSettingsSave {
  buyerIdleMinutes: number;
  /** Omitted: the value in force is kept. */
  agentLeft?: AgentLeftPolicy;
  firstReplyMinutes?: number | null;
}

/** Appends a new version; the shop row lock orders concurrent changes. Input is validated by the caller. */
export async function saveSessionSettings(
  db: Knex,
  shopId: string,
  change: SessionSettingsSave,
  changedBy: string,
): Promise<SessionSettings> {
  return db.transaction(async (tx) => {
    await tx('shops').where({ id: shopId }).forUpdate().first();
    const current = await currentSessionSettings(tx, shopId);
    const agentLeft = change.agentLeft ?? current.agentLeft;
    await tx('session_settings_versions').insert({
      shop_id: shopId,
      version: current.version + 1,
      buyer_idle_minutes: change.buyerIdleMinutes,
      agent_left_mode: agentLeft.mode,
      agent_left_grace_minutes: agentLeft.graceMinutes,
      first_reply_minutes: change.firstReplyMinutes === undefined ? current.firstReplyMinutes : change.firstReplyMinutes,
      changed_by: changedBy,
    });
    return currentSessionSettings(tx, shopId);
  });
}
