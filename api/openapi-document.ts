/**
 * The served OpenAPI description, built without any server behind it (no database query, no
 * Temporal call): for the client generator and its drift check.
 */
import type { Client } from '@temporalio/client';
import { createDb } from '../db/connection';
import { buildApp } from './app';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  // Never connected: building the routes touches neither.
  const db = createDb('postgres://unused@127.0.0.1:1/unused');
  const app = await buildApp({ db, temporal: { client: {} as Client, taskQueue: 'unused' }, adminToken: undefined, logLevel: 'silent' });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    await db.destroy();
  }
}
