import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateLatest, migrateRollbackAll } from '../../db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase({ migrate: false });
});
afterAll(async () => tdb?.drop());

async function tables(): Promise<string[]> {
  const rows = await tdb
    .db('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNotIn('table_name', ['knex_migrations', 'knex_migrations_lock'])
    .orderBy('table_name')
    .pluck('table_name');
  return rows;
}

const ALL = [
  '001_initial_schema',
  '002_distribution_run_key',
  '003_distribution_run_observations',
  '004_session_closures',
  '005_events_delivery_webhooks',
  '006_console_reads',
  '007_pool_run_id',
  '008_transfers',
  '009_handoff_settings',
  '010_idempotency_keys',
  '011_service_facts',
  '012_rate_limit_windows',
];

const EXPECTED = [
  'agent_group_members',
  'agent_groups',
  'agents',
  'api_keys',
  'assignment_records',
  'distribution_runs',
  'distribution_settings_versions',
  'events',
  'idempotency_keys',
  'offline_messages',
  'outbox',
  'rate_limit_windows',
  'service_rollup',
  'session_closures',
  'session_facts',
  'session_settings_versions',
  'sessions',
  'shops',
  'webhook_attempts',
  'webhook_endpoints',
];

it('migrates up, down to nothing, and up again', async () => {
  expect(await migrateLatest(tdb.db)).toEqual(ALL);
  expect(await tables()).toEqual(EXPECTED);
  expect(await migrateLatest(tdb.db)).toEqual([]);

  expect((await migrateRollbackAll(tdb.db)).sort()).toEqual(ALL);
  expect(await tables()).toEqual([]);

  expect(await migrateLatest(tdb.db)).toEqual(ALL);
  expect(await tables()).toEqual(EXPECTED);
});

it('creates the indexes the queue, recent-contact and distribution queries rely on', async () => {
  const indexes: string[] = await tdb.db('pg_indexes').where({ schemaname: 'public' }).pluck('indexname');
  expect(indexes).toEqual(
    expect.arrayContaining([
      'sessions_queue_fifo',
      'sessions_recent_contact',
      'sessions_agent_active',
      'offline_messages_pending_newest',
      'distribution_runs_key_once',
      'assignment_records_message_once',
      'outbox_due',
      'outbox_dead',
      'webhook_attempts_delivered',
    ]),
  );
});

it('refuses an agent whose load would go negative or capacity below zero', async () => {
  await tdb.db('shops').insert({ id: 'm1', name: 'M' });
  await expect(tdb.db('agents').insert({ id: 'a1', shop_id: 'm1', name: 'A', capacity: -1 })).rejects.toThrow(/agents_capacity_respected/);
});
