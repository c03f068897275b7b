import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDb, type Db } from '../../db/connection';
import { migrateLatest } from '../../db/migrate';
import { ensureDatabase } from '../../infra/provision/embedded-postgres';

export interface TestDatabase {
  db: Db;
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database on the run's Postgres: one per test file, so files never share rows. */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('postgresServerUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(serverUrl, name);
  const db = createDb(url, { max: 20 });
  if (opts.migrate ?? true) await migrateLatest(db);
  return {
    db,
    url,
    drop: async () => {
      await db.destroy();
      const admin = createDb(serverUrl, { max: 1 });
      try {
        await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.destroy();
      }
    },
  };
}
