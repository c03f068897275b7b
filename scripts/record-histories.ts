/**
 * `npm run record-histories`: runs representative sessions and shop runs on the time-skipping test
 * server (throwaway Postgres) and writes their histories to test/fixtures/histories/. The replay
 * test feeds them to the current workflow code, so a change that breaks running workflows fails CI.
 * Record a new generation after a versioned (patched) change; never overwrite an older one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, PROJECT_ROOT } from '../config';
import { createDb } from '../db/connection';
import { migrateLatest } from '../db/migrate';
import { createAgent } from '../db/repositories/agents';
import { createShop } from '../db/repositories/shops';
import { CONVERSATION_MESSAGES_PER_RUN, HOUR_MS, MINUTE_MS } from '../domain/limits';
import type { StartSessionRequest } from '../domain/session';
import { conversationWorkflowId, CUSTOM_SEARCH_ATTRIBUTES, indexedValueTypeOf, shopWorkflowId } from '../domain/temporal-names';
import { ensureDatabase, startEmbeddedPostgres } from '../infra/provision/embedded-postgres';
import { step } from '../infra/provision/progress';
import { resolveTestServer } from '../infra/provision/test-server';
import { CALM_KEEPALIVE } from '../test/support/test-server-keepalive';
import { startDelivery } from '../worker/delivery';
import { sessionStateQuery } from '../contracts/conversation';
import { closeConversation, leaveQueue, reportMessage, startConversation } from '../temporal/session-gateway';
import { runDistributionNow, startShopWorkflow } from '../temporal/shop-gateway';
import { updateDistributionSettingsUpdate, updateSessionSettingsUpdate } from '../contracts/shop';
import { DEFAULT_DISTRIBUTION_SETTINGS } from '../domain/distribution';
import { createWorker } from '../worker/create-worker';

/**
 * Each recording goes to its own generation folder (`-- --generation NAME`, default today's date), so
 * histories of older workflow code stay and keep proving that patched() branches still replay.
 */
const generationArg = process.argv.indexOf('--generation');
const GENERATION = generationArg > 0 ? process.argv[generationArg + 1]! : new Date().toISOString().slice(0, 10);
const OUT_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories', GENERATION);
const TASK_QUEUE = 'record-histories';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-record-'));
  fs.chmodSync(tmp, 0o777);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'pg'),
    port: 54400 + Math.floor(Math.random() * 500),
    persistent: false,
  });
  // Stop the servers and remove the scratch folder even when a recording fails.
  const db = createDb(await ensureDatabase(pg.url, 'record'));
  let env: TestWorkflowEnvironment | undefined;
  try {
    await migrateLatest(db);
    const timeSkipping = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: resolveTestServer(config.cacheDir) } },
      plugins: [CALM_KEEPALIVE],
    });
    env = timeSkipping;
    await timeSkipping.connection.operatorService
      .addSearchAttributes({
        namespace: 'default',
        searchAttributes: Object.fromEntries(CUSTOM_SEARCH_ATTRIBUTES.map((a) => [a.name, indexedValueTypeOf(a)])),
      })
      .catch(() => undefined);
    const worker = await createWorker({
      connection: timeSkipping.nativeConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      db,
    });
    const delivery = await startDelivery({ db, client: timeSkipping.client, taskQueue: TASK_QUEUE });
    const { client } = env;
    fs.mkdirSync(OUT_DIR, { recursive: true });

    const save = async (name: string, workflowId: string, runId?: string) => {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      // protobufjs JSON (longs as strings, bytes base64); the replay test reads it back with History.fromObject.
      fs.writeFileSync(
        path.join(OUT_DIR, `${name}.json`),
        JSON.stringify(temporal.api.history.v1.History.fromObject(history).toJSON(), null, 1) + '\n',
      );
      step(`recorded ${name} (${history.events?.length} events)`);
    };
    const req = (sessionId: string, extra: Partial<StartSessionRequest> = {}): StartSessionRequest => ({
      shopId: 'rec',
      sessionId,
      buyerId: `buyer-${sessionId}`,
      topic: 'presales',
      wantsHuman: false,
      botEngaged: false,
      policy: 'current',
      ...extra,
    });
    const settle = () => new Promise((r) => setTimeout(r, 300));

    await worker.runUntil(async () => {
      await createShop(db, { id: 'rec', name: 'Recorder', timeZone: 'Asia/Shanghai' });
      await createShop(db, { id: 'rec-q', name: 'Recorder queue', timeZone: 'Asia/Shanghai' });
      const agent = await createAgent(db, 'rec', { name: 'A', capacity: 1, status: 'online' });
      await createAgent(db, 'rec-q', { name: 'Full', capacity: 0, status: 'online' });

      // Timers: agent-reply timeout after a few turns.
      await startConversation(client, TASK_QUEUE, req('timers'));
      await settle();
      await reportMessage(client, 'rec', 'timers', { from: 'agent', messageId: 'a1' });
      await timeSkipping.sleep(5 * MINUTE_MS);
      await reportMessage(client, 'rec', 'timers', { from: 'buyer', messageId: 'b1' });
      await reportMessage(client, 'rec', 'timers', { from: 'buyer', messageId: 'b1' }); // a re-sent report
      await timeSkipping.sleep(MINUTE_MS);
      await reportMessage(client, 'rec', 'timers', { from: 'buyer', messageId: 'b2' }); // same side again
      await client.workflow.getHandle(conversationWorkflowId('rec', 'timers')).result();
      await save('conversation-agent-reply-timeout', conversationWorkflowId('rec', 'timers'));

      // Routed to an agent, then closed by the agent; the freed seat drains the queued session.
      await startConversation(client, TASK_QUEUE, req('routed', { wantsHuman: true }));
      await settle();
      await startConversation(client, TASK_QUEUE, req('waiting', { wantsHuman: true }));
      await settle();
      await closeConversation(client, 'rec', 'routed', { by: 'agent' });
      await settle();
      await reportMessage(client, 'rec', 'waiting', { from: 'agent', messageId: `by-${agent.id}` });
      await timeSkipping.sleep(HOUR_MS);
      await client.workflow.getHandle(conversationWorkflowId('rec', 'waiting')).result();
      await save('conversation-routed-closed-by-agent', conversationWorkflowId('rec', 'routed'));
      await save('conversation-drained-from-queue', conversationWorkflowId('rec', 'waiting'));

      // Queue: one buyer leaves, one times out after 24 h.
      await startConversation(client, TASK_QUEUE, { ...req('leaver', { wantsHuman: true }), shopId: 'rec-q' });
      await startConversation(client, TASK_QUEUE, { ...req('patient', { wantsHuman: true }), shopId: 'rec-q' });
      await settle();
      await leaveQueue(client, 'rec-q', 'leaver');
      await client.workflow.getHandle(conversationWorkflowId('rec-q', 'patient')).result();
      await save('conversation-left-queue', conversationWorkflowId('rec-q', 'leaver'));
      await save('conversation-queue-timeout', conversationWorkflowId('rec-q', 'patient'));

      // Bot-only: the bot talked, the buyer went quiet; the session enters the pool as bot_only and
      // its run waits there (from generation 4 on).
      await startConversation(client, TASK_QUEUE, req('botonly', { botEngaged: true }));
      await reportMessage(client, 'rec', 'botonly', { from: 'buyer', messageId: 'q' });
      await reportMessage(client, 'rec', 'botonly', { from: 'agent', messageId: 'bot' });
      await timeSkipping.sleep(21 * MINUTE_MS);
      while ((await db('offline_messages').where({ shop_id: 'rec', session_id: 'botonly' }).first('origin'))?.origin !== 'bot_only')
        await settle();
      await settle();
      await save('conversation-bot-only-pooled', conversationWorkflowId('rec', 'botonly'));

      // Continue-as-new: the first run's history ends in ContinuedAsNew.
      const { runId } = await startConversation(client, TASK_QUEUE, req('chatty'));
      for (let i = 0; i <= CONVERSATION_MESSAGES_PER_RUN; i++) {
        await reportMessage(client, 'rec', 'chatty', { from: i % 2 ? 'buyer' : 'agent', messageId: `c${i}` });
      }
      await client.workflow.getHandle(conversationWorkflowId('rec', 'chatty')).result();
      await save('conversation-continued-as-new', conversationWorkflowId('rec', 'chatty'), runId);

      // Nobody online: the session ends in the offline pool; run-now assigns it and its next run starts.
      await createShop(db, { id: 'rec-off', name: 'Recorder offline', timeZone: 'Asia/Shanghai' });
      await startConversation(client, TASK_QUEUE, { ...req('offline', { wantsHuman: true }), shopId: 'rec-off' });
      // Not result(): on the time-skipping server it unlocks time, which then leaps years ahead and
      // leaves the offline message outside the 24 h distribution scope.
      // Its run waits in the pool for the assignment (from generation 3 on).
      while ((await db('sessions').where({ shop_id: 'rec-off', session_id: 'offline' }).first('status'))?.status !== 'offline')
        await settle();
      await createAgent(db, 'rec-off', { name: 'Back', capacity: 5, status: 'online' });
      await startShopWorkflow(client, TASK_QUEUE, 'rec-off');
      await runDistributionNow(client, TASK_QUEUE, 'rec-off', 'recorder');
      // The assignment reaches the waiting run through the outbox.
      const resumed = client.workflow.getHandle(conversationWorkflowId('rec-off', 'offline'));
      while ((await resumed.query(sessionStateQuery)).status !== 'active') await settle();
      await reportMessage(client, 'rec-off', 'offline', { from: 'agent', messageId: 'hello' });
      await client.workflow.getHandle(conversationWorkflowId('rec-off', 'offline')).result();
      await save('conversation-resumed-from-pool', conversationWorkflowId('rec-off', 'offline'));

      // Shop run: settings updates (accepted and refused), run-now, a scheduled slot.
      await startShopWorkflow(client, TASK_QUEUE, 'rec');
      await settle();
      const handle = client.workflow.getHandle(shopWorkflowId('rec'));
      await handle.executeUpdate(updateSessionSettingsUpdate, { args: [{ buyerIdleMinutes: 45, changedBy: 'recorder' }] });
      await handle
        .executeUpdate(updateDistributionSettingsUpdate, {
          args: [{ settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, perAgentCap: 0 - 1 }, changedBy: 'recorder' }],
        })
        .catch(() => undefined);
      await handle.executeUpdate(updateDistributionSettingsUpdate, {
        args: [{ settings: { ...DEFAULT_DISTRIBUTION_SETTINGS, perAgentCap: 5 }, changedBy: 'recorder' }],
      });
      await runDistributionNow(client, TASK_QUEUE, 'rec', 'recorder');
      await timeSkipping.sleep(31 * MINUTE_MS);
      await settle();
      await handle.terminate('recording done');
      await save('shop-schedule-and-settings', shopWorkflowId('rec'));
      await client.workflow.getHandle(shopWorkflowId('rec-off')).terminate('recording done');
    });
    await delivery.stop();
  } finally {
    await env?.teardown();
    await db.destroy();
    await pg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
