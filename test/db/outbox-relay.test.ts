/**
 * The outbox relay on a real Postgres (the send is a function here: this is the pipeline, not
 * Temporal): batches, order per workflow, a failing row that backs off without blocking the rows
 * behind it, the dead letter and its retry, and a relay killed with a claimed batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgListener } from '../../db/notifications';
import {
  claimOutbox,
  listDeadLetters,
  outboxStats,
  OUTBOX_MAX_ATTEMPTS,
  retryDeadLetter,
  type OutboxMessage,
} from '../../db/repositories/outbox';
import { OutboxRelay } from '../../temporal/outbox-relay';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { until } from '../support/wait';

let tdb: TestDatabase;
let listener: PgListener;
beforeAll(async () => {
  tdb = await createTestDatabase();
  listener = PgListener.forDb(tdb.db);
});
afterAll(async () => {
  await listener?.close();
  await tdb?.drop();
});

const message = (workflowId: string, n: number): OutboxMessage => ({
  kind: 'agent_assigned',
  workflowId,
  assignment: { assignmentId: `${workflowId}/${n}`, agentId: 'a', operator: 'x', reason: 'r' },
});

async function enqueue(messages: OutboxMessage[]): Promise<void> {
  await tdb.db('outbox').insert(messages.map((m) => ({ shop_id: 's', kind: m.kind, payload: JSON.stringify(m) })));
  await tdb.db.raw(`SELECT pg_notify('outbox_ready', '')`);
}

describe('outbox relay', () => {
  it('delivers 2,000 rows in batches, in order per workflow, and one bad workflow blocks nobody else', async () => {
    await tdb.db('outbox').delete();
    const sent: string[] = [];
    const relay = new OutboxRelay(
      tdb.db,
      async (m) => {
        if (m.kind !== 'agent_assigned') return;
        if (m.workflowId === 'bad') throw new Error('temporal said no');
        sent.push(m.assignment.assignmentId);
      },
      { batchSize: 300, concurrency: 16 },
    );
    await relay.start(listener);
    try {
      const rows: OutboxMessage[] = [];
      for (let i = 0; i < 2000; i++) rows.push(message(`wf-${i % 50}`, i));
      rows.splice(10, 0, message('bad', 0), message('bad', 1));
      await enqueue(rows);
      await until(
        async () => sent.length,
        (n) => n === 2000,
        'good rows delivered',
      );
      for (let w = 0; w < 50; w++) {
        const mine = sent.filter((id) => id.startsWith(`wf-${w}/`)).map((id) => Number(id.split('/')[1]));
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
      const stats = await outboxStats(tdb.db);
      expect(stats).toMatchObject({ pending: 2, dead: 0 });
      const bad = await tdb.db('outbox').whereRaw(`payload->>'workflowId' = 'bad'`).orderBy('id');
      expect(bad[0].last_error).toContain('temporal said no');
      // The second row of the bad workflow waits behind the first, not before it.
      expect(bad[1].last_error).toContain('earlier message of the same workflow');
    } finally {
      await relay.stop();
    }
  });

  it('a row that keeps failing moves to the dead letter, which a retry brings back', async () => {
    await tdb.db('outbox').delete();
    let healthy = false;
    const relay = new OutboxRelay(tdb.db, async () => {
      if (!healthy) throw new Error('down');
    });
    await enqueue([message('wf-dead', 1)]);
    // As if it had failed every attempt but the last.
    await tdb.db('outbox').update({ attempts: OUTBOX_MAX_ATTEMPTS - 1 });
    await relay.drain();
    const dead = await listDeadLetters(tdb.db, { limit: 10 });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ attempts: OUTBOX_MAX_ATTEMPTS, lastError: 'Error: down' });
    expect(await outboxStats(tdb.db)).toMatchObject({ pending: 0, dead: 1 });
    healthy = true;
    expect(await retryDeadLetter(tdb.db, dead[0].id)).toBe(true);
    expect(await relay.drain()).toBe(1);
    expect(await outboxStats(tdb.db)).toMatchObject({ pending: 0, dead: 0 });
    expect(await retryDeadLetter(tdb.db, dead[0].id)).toBe(false);
  });

  it('a relay killed holding a batch loses nothing: another delivers it once its lease ends', async () => {
    await tdb.db('outbox').delete();
    await enqueue([message('k', 1), message('k', 2), message('k', 3)]);
    const claimed = await claimOutbox(tdb.db, 100, 300);
    expect(claimed).toHaveLength(3);
    const sent: string[] = [];
    const relay = new OutboxRelay(tdb.db, async (m) => {
      if (m.kind === 'agent_assigned') sent.push(m.assignment.assignmentId);
    });
    expect(await relay.drain()).toBe(0); // still leased
    await new Promise((r) => setTimeout(r, 400));
    expect(await relay.drain()).toBe(3);
    expect(sent).toEqual(['k/1', 'k/2', 'k/3']);
    expect(await tdb.db('outbox').whereNull('delivered_at')).toEqual([]);
  });
});
