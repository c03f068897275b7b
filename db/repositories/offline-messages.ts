import type { OfflineMessage, OfflineMessageStatus } from '../../contracts/shapes';
import type { Knex } from 'knex';

/** The API's OfflineMessage shape (contracts/shapes.ts). */
export type { OfflineMessage, OfflineMessageStatus };

interface Row {
  id: number;
  shop_id: string;
  session_id: string;
  buyer_id: string;
  topic: string;
  wants_human: boolean;
  bot_engaged: boolean;
  origin: OfflineMessage['origin'];
  status: OfflineMessageStatus;
  agent_id: string | null;
  skip_reason: string | null;
  created_at: Date;
  resolved_at: Date | null;
}

function toMessage(r: Row): OfflineMessage {
  return {
    id: r.id,
    shopId: r.shop_id,
    sessionId: r.session_id,
    buyerId: r.buyer_id,
    topic: r.topic,
    wantsHuman: r.wants_human,
    botEngaged: r.bot_engaged,
    origin: r.origin,
    status: r.status,
    agentId: r.agent_id,
    skipReason: r.skip_reason,
    createdAt: r.created_at.toISOString(),
    resolvedAt: r.resolved_at ? r.resolved_at.toISOString() : null,
  };
}

export interface OfflineMessageFilter {
  status?: OfflineMessageStatus;
  topic?: string;
  wantsHuman?: boolean;
  limit: number;
  /** Keyset: rows strictly older than this (created_at, id). */
  before?: { at: string; id: number };
}

/** The shop's offline-message pool, newest first (the order distribution takes them in). */
export async function listOfflineMessages(db: Knex, shopId: string, f: OfflineMessageFilter): Promise<OfflineMessage[]> {
  const q = db<Row>('offline_messages').where({ shop_id: shopId });
  if (f.status) q.where({ status: f.status });
  if (f.topic) q.where({ topic: f.topic });
  if (f.wantsHuman !== undefined) q.where({ wants_human: f.wantsHuman });
  if (f.before) q.whereRaw('(created_at, id) < (?, ?)', [f.before.at, f.before.id]);
  const rows = await q
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(f.limit);
  return (rows as Row[]).map(toMessage);
}
