/** `npm run migrate [-- down]`: applies (or rolls back all) migrations on DATABASE_URL. */
import { loadConfig } from '../config';
import { createDb } from './connection';
import { migrateLatest, migrateRollbackAll } from './migrate';

async function main(): Promise<void> {
  const { databaseUrl } = loadConfig();
  if (!databaseUrl) throw new Error('DATABASE_URL is not set (npm start runs migrations on the embedded database itself)');
  const db = createDb(databaseUrl);
  try {
    const names = process.argv.includes('down') ? await migrateRollbackAll(db) : await migrateLatest(db);
    process.stdout.write(`${process.argv.includes('down') ? 'rolled back' : 'applied'}: ${names.join(', ') || 'nothing'}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
