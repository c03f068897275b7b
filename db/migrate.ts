import type { Knex } from 'knex';
import type { Db } from './connection';
import * as initialSchema from './migrations/001_initial_schema';
import * as distributionRunKey from './migrations/002_distribution_run_key';
import * as distributionRunObservations from './migrations/003_distribution_run_observations';
import * as sessionClosures from './migrations/004_session_closures';
import * as eventsDeliveryWebhooks from './migrations/005_events_delivery_webhooks';
import * as consoleReads from './migrations/006_console_reads';
import * as poolRunId from './migrations/007_pool_run_id';
import * as transfers from './migrations/008_transfers';
import * as handoffSettings from './migrations/009_handoff_settings';
import * as idempotencyKeys from './migrations/010_idempotency_keys';
import * as serviceFacts from './migrations/011_service_facts';
import * as rateLimitWindows from './migrations/012_rate_limit_windows';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations are listed here in order; imported statically so tsx, vitest and a build all load them alike. */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial_schema': initialSchema,
  '002_distribution_run_key': distributionRunKey,
  '003_distribution_run_observations': distributionRunObservations,
  '004_session_closures': sessionClosures,
  '005_events_delivery_webhooks': eventsDeliveryWebhooks,
  '006_console_reads': consoleReads,
  '007_pool_run_id': poolRunId,
  '008_transfers': transfers,
  '009_handoff_settings': handoffSettings,
  '010_idempotency_keys': idempotencyKeys,
  '011_service_facts': serviceFacts,
  '012_rate_limit_windows': rateLimitWindows,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Db): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback({ migrationSource: source }, true)) as [number, string[]];
  return reverted;
}
