import { ApplicationFailure, log } from '@temporalio/activity';
import { workerMetrics } from '../infra/worker-metrics';
import type { Db } from '../db/connection';
import { distributeOfflineMessages, type DistributionRequest, type DistributionRun } from '../db/repositories/distribution';
import {
  currentDistributionSettings,
  saveDistributionSettings,
  type VersionedDistributionSettings,
} from '../db/repositories/distribution-settings';
import { saveSessionSettings, type SessionSettingsSave } from '../db/repositories/session-settings';
import { rerouteSessionsOfAgentWhoLeft } from '../db/repositories/handoffs';
import { getShop, setShopTimeZone } from '../db/repositories/shops';
import type { DistributionSettings } from '../domain/distribution';
import { DomainError } from '../domain/errors';
import type { SessionSettings } from '../domain/session';

/** A rule violation from Postgres-side checks reaches the workflow as a non-retryable failure typed with its code. */
async function asRuleFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DomainError) throw ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true });
    throw err;
  }
}

export function createShopActivities({ db }: { db: Db }) {
  return {
    async loadShopSchedule(req: {
      shopId: string;
    }): Promise<{ timeZone: string; distribution: { version: number; settings: DistributionSettings } }> {
      const shop = await getShop(db, req.shopId);
      if (!shop) throw ApplicationFailure.create({ type: 'not_found', message: `shop ${req.shopId} does not exist`, nonRetryable: true });
      const { version, settings } = await currentDistributionSettings(db, req.shopId);
      return { timeZone: shop.timeZone, distribution: { version, settings } };
    },

    /** The shop workflow calls it from a validated update; who changed it stays in that run's history. */
    async saveShopTimeZone(req: { shopId: string; timeZone: string; changedBy: string }): Promise<void> {
      await setShopTimeZone(db, req.shopId, req.timeZone);
    },

    /** Appends a settings version; the shop workflow calls it from a validated update. */
    async saveSessionSettings(req: { shopId: string; changedBy: string } & SessionSettingsSave): Promise<SessionSettings> {
      const { shopId, changedBy, ...change } = req;
      return saveSessionSettings(db, shopId, change, changedBy);
    },

    /**
     * docs/rules.md §9.2: the grace period of an agent who went offline ran out. Re-routes its sessions unless
     * it came back (or left again later, which started a grace period of its own). Idempotent.
     */
    async rerouteSessionsOfAgentWhoLeft(req: {
      shopId: string;
      agentId: string;
      since: string;
      at: string;
    }): Promise<{ rerouted: number }> {
      const outcomes = await rerouteSessionsOfAgentWhoLeft(db, req);
      if (outcomes.length > 0)
        log.info('sessions re-routed: agent left', { shopId: req.shopId, agentId: req.agentId, rerouted: outcomes.length });
      return { rerouted: outcomes.length };
    },

    async saveDistributionSettings(req: {
      shopId: string;
      settings: DistributionSettings;
      changedBy: string;
    }): Promise<VersionedDistributionSettings> {
      return asRuleFailure(() => saveDistributionSettings(db, req.shopId, req.settings, req.changedBy));
    },

    /**
     * One run; idempotent per scheduled slot. Answers once the run is committed: the assigned
     * sessions' runs hear of their agent from the outbox relay, not inside this activity.
     */
    async distributeOfflineMessages(req: DistributionRequest): Promise<DistributionRun> {
      const run = await distributeOfflineMessages(db, req);
      workerMetrics().distributionRuns.add(1, { trigger: run.trigger, outcome: run.outcome });
      workerMetrics().distributionAssigned.add(run.assignedCount);
      const fields = {
        shopId: req.shopId,
        runId: run.id,
        trigger: run.trigger,
        outcome: run.outcome,
        failureReason: run.failureReason,
        eligible: run.eligibleCount,
        assigned: run.assignedCount,
      };
      if (run.outcome === 'failed') log.warn('distribution run failed', fields);
      else log.info('distribution run finished', fields);
      return run;
    },
  };
}

export type ShopActivities = ReturnType<typeof createShopActivities>;
