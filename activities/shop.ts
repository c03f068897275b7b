import type { Db } from '../db/connection';
import { saveSessionSettings } from '../db/repositories/session-settings';
import type { SessionSettings } from '../domain/session';

export function createShopActivities({ db }: { db: Db }) {
  return {
    /** Appends a settings version; the shop workflow calls it from a validated update. */
    async saveSessionSettings(req: { shopId: string; buyerIdleMinutes: number; changedBy: string }): Promise<SessionSettings> {
      return saveSessionSettings(db, req.shopId, req.buyerIdleMinutes, req.changedBy);
    },
  };
}

export type ShopActivities = ReturnType<typeof createShopActivities>;
