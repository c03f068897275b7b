import type { FastifyInstance } from 'fastify';

import {
  assignManually,
  dailyAutoAssignedCounts,
  distributeOfflineMessages,
  getDistributionRun,
  listAssignmentRecords,
  listDistributionRuns,
} from '../../../db/repositories/distribution';
import { assertTargetExists, currentDistributionSettings } from '../../../db/repositories/distribution-settings';
import { getShop } from '../../../db/repositories/shops';
import { validateDistributionSettings, type DistributionSettings } from '../../../domain/distribution';
import { DomainError } from '../../../domain/errors';
import { idempotencyKeyOf } from '../../idempotency';
import { queryShop, runDistributionNow, updateDistributionSettings } from '../../../temporal/shop-gateway';
import { outboxStateOfRun } from '../../../db/repositories/outbox';
import { actorOf } from '../../actor';
import { ApiError, notFound } from '../../errors';
import { typed } from '../../typed';
import {
  SettingsInput,
  getDistributionSettingsSchema,
  updateDistributionSettingsSchema,
  getDistributionScheduleSchema,
  runDistributionNowSchema,
  dryRunDistributionSchema,
  listDistributionRunsSchema,
  getDistributionRunSchema,
  listAssignmentRecordsSchema,
  getDailyAutoAssignedCountsSchema,
  assignOfflineMessagesSchema,
  SETTINGS_REFUSALS,
} from './schemas';

/** The request body's settings, typed from the schema; the domain's rules make them DistributionSettings. */

/** The API validates what it can before anything reaches the shop run (bad input changes nothing). */
async function validated(app: FastifyInstance, shopId: string, input: SettingsInput): Promise<DistributionSettings> {
  const shop = await getShop(app.deps.db, shopId);
  if (!shop) throw notFound(`shop ${shopId}`);
  // The schema has the shape; the target's kind-specific ids are the domain rule's to check.
  const settings = input as DistributionSettings;
  const violation = validateDistributionSettings(settings, shop.timeZone);
  if (violation) throw DomainError.from(violation);
  await assertTargetExists(app.deps.db, shopId, settings);
  return settings;
}

export default async function distributionRoutes(instance: FastifyInstance): Promise<void> {
  const app = typed(instance);
  const { client, taskQueue } = app.deps.temporal;

  app.get(
    '/settings/distribution',
    {
      schema: getDistributionSettingsSchema,
    },
    async (req) => currentDistributionSettings(app.deps.db, req.params.shopId),
  );

  app.put(
    '/settings/distribution',
    {
      config: { errors: { 400: SETTINGS_REFUSALS } },
      schema: updateDistributionSettingsSchema,
    },
    async (req) => {
      const settings = await validated(app, req.params.shopId, req.body.settings);
      return updateDistributionSettings(client, taskQueue, req.params.shopId, { settings, changedBy: actorOf(req, req.body.changedBy) });
    },
  );

  app.get(
    '/distribution/schedule',
    {
      schema: getDistributionScheduleSchema,
    },
    async (req) => queryShop(client, req.params.shopId),
  );

  app.post(
    '/distribution/run-now',
    {
      config: { idempotent: true },
      schema: runDistributionNowSchema,
    },
    async (req) => runDistributionNow(client, taskQueue, req.params.shopId, req.body?.requestedBy ?? 'merchant', idempotencyKeyOf(req)),
  );

  app.post(
    '/distribution/dry-run',
    {
      config: { errors: { 400: SETTINGS_REFUSALS } },
      schema: dryRunDistributionSchema,
    },
    async (req) => {
      const current = await currentDistributionSettings(app.deps.db, req.params.shopId);
      const settings = req.body?.settings ? await validated(app, req.params.shopId, req.body.settings) : current.settings;
      return distributeOfflineMessages(app.deps.db, {
        shopId: req.params.shopId,
        trigger: 'manual',
        slot: null,
        runKey: 'dry-run', // rolled back with everything else
        at: new Date().toISOString(),
        settings,
        settingsVersion: current.version,
        dryRun: true,
      });
    },
  );

  app.get(
    '/distribution/runs',
    {
      schema: listDistributionRunsSchema,
    },
    async (req) => ({
      items: await listDistributionRuns(app.deps.db, req.params.shopId, {
        limit: req.query.limit,
        beforeId: req.query.before,
        outcome: req.query.outcome,
      }),
    }),
  );

  app.get(
    '/distribution/runs/:runId',
    {
      schema: getDistributionRunSchema,
    },
    async (req) => {
      const run = await getDistributionRun(app.deps.db, req.params.shopId, req.params.runId);
      if (!run) throw notFound(`run ${req.params.runId}`);
      const records = await app.deps.db('assignment_records').where({ shop_id: req.params.shopId, run_id: run.id }).orderBy('id').select({
        offlineMessageId: 'offline_message_id',
        sessionId: 'session_id',
        agentId: 'agent_id',
        operator: 'operator',
        outcome: 'outcome',
        reason: 'reason',
      });
      return { run, records, delivery: await outboxStateOfRun(app.deps.db, run.id!) };
    },
  );

  app.get(
    '/assignment-records',
    {
      schema: listAssignmentRecordsSchema,
    },
    async (req) => ({
      items: await listAssignmentRecords(app.deps.db, req.params.shopId, {
        limit: req.query.limit,
        beforeId: req.query.before,
        kind: req.query.kind,
        outcome: req.query.outcome,
      }),
    }),
  );

  app.get(
    '/distribution/daily-counts',
    {
      schema: getDailyAutoAssignedCountsSchema,
    },
    async (req) => {
      const shop = await getShop(app.deps.db, req.params.shopId);
      if (!shop) throw notFound(`shop ${req.params.shopId}`);
      return {
        timeZone: shop.timeZone,
        items: await dailyAutoAssignedCounts(app.deps.db, shop.id, shop.timeZone, req.query.days, new Date()),
      };
    },
  );

  app.post(
    '/offline-messages/assign',
    {
      config: { idempotent: true, errors: { 400: ['unknown_agents'], 404: ['unknown_offline_messages'], 409: ['offline_messages_taken'] } },
      schema: assignOfflineMessagesSchema,
    },
    async (req) => {
      const result = await assignManually(app.deps.db, {
        shopId: req.params.shopId,
        messageIds: req.body.messageIds,
        agentId: req.body.agentId,
        operator: actorOf(req, req.body.operator),
        at: new Date().toISOString(),
      });
      if (result.assigned.length === 0) {
        throw new ApiError('offline_messages_taken', 'none of these messages is pending any more', 409, result.notAssigned);
      }
      return result;
    },
  );
}
