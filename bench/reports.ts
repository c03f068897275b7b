/**
 * `npm run bench:reports [-- --trials N]`
 *
 * One shop with 1,000,000 recorded sessions over 92 days (40 agents, 4 groups), generated in SQL
 * as the facts the transactions write (an assignment, a first response, replies, a close; a third
 * queued, one in twenty through the pool) and rolled up with the same bucketing. Each trial asks the
 * HTTP API for the 92-day report by day, by agent and by group; the floor is the cheapest
 * authenticated read (GET the shop) on the same API in the same run.
 */
import type { Knex } from 'knex';
import { createShop } from '../db/repositories/shops';
import { BUCKETED_KINDS, bucketSql } from '../domain/service-levels';
import { step } from '../infra/provision/progress';
import { arg, machineLine, percentile, startBenchApi, startBenchInfra } from './support';

const TRIALS = arg('trials', 10);
const SESSIONS = 1_000_000;
const DAYS = 92;
const AGENTS = 40;
const SHOP = 'bench-reports';

async function generate(db: Knex, shopId: string): Promise<void> {
  await db.raw(
    `INSERT INTO agents (id, shop_id, name, capacity, status) SELECT 'a' || g, ?, '客服' || g, 10, 'online' FROM generate_series(1, ?) g`,
    [shopId, AGENTS],
  );
  await db.raw(`INSERT INTO agent_groups (id, shop_id, name, scopes) SELECT 'g' || g, ?, '分组' || g, '{}' FROM generate_series(1, 4) g`, [
    shopId,
  ]);
  await db.raw(`INSERT INTO agent_group_members (group_id, agent_id) SELECT 'g' || (1 + g % 4), 'a' || g FROM generate_series(1, ?) g`, [
    AGENTS,
  ]);
  // Skewed like real first responses: most within seconds, a tail of minutes.
  await db.raw(
    `INSERT INTO session_facts (shop_id, session_id, kind, detail, at, agent_id, seconds, n)
     SELECT ?, 's' || g, k.kind, k.detail, t.t0 + k.off, 'a' || (1 + g % ?), k.seconds, k.n
       FROM generate_series(1, ?) g,
            LATERAL (SELECT timestamptz '2026-09-01 00:00+08' + (g * (? * 86400.0 / ?)) * interval '1 second' AS t0, random() AS r) t,
            LATERAL (VALUES
              ('assigned', CASE WHEN g % 3 = 0 THEN 'queue' ELSE 'live' END, interval '0', CASE WHEN g % 3 = 0 THEN 40 + 200 * t.r ELSE 0 END, 1),
              ('first_response', NULL, interval '30 s', 3 + 600 * power(t.r, 4), 1),
              ('response', NULL, interval '60 s', 3 * (5 + 100 * power(t.r, 3)), 3),
              ('closed', CASE WHEN g % 50 = 0 THEN 'agent_reply_timeout' ELSE 'closed_by_agent' END, interval '20 min', 1200, 1)
            ) AS k(kind, detail, off, seconds, n)`,
    [shopId, AGENTS, SESSIONS, DAYS, SESSIONS],
  );
  await db.raw(
    `INSERT INTO session_facts (shop_id, session_id, kind, detail, at, agent_id, seconds, n)
     SELECT ?, 's' || g, 'queue_wait', 'assigned', timestamptz '2026-09-01 00:00+08' + (g * (? * 86400.0 / ?)) * interval '1 second',
            'a' || (1 + g % ?), 40 + 200 * random(), 1
       FROM generate_series(3, ?, 3) g`,
    [shopId, DAYS, SESSIONS, AGENTS, SESSIONS],
  );
  await db.raw(
    `INSERT INTO session_facts (shop_id, session_id, kind, detail, at, agent_id, seconds, n)
     SELECT ?, 's' || g, 'pool_created', 'no_agent_online', timestamptz '2026-09-01 00:00+08' + (g * (? * 86400.0 / ?)) * interval '1 second', NULL, NULL, 1
       FROM generate_series(20, ?, 20) g`,
    [shopId, DAYS, SESSIONS, SESSIONS],
  );
  // The rollup as recordFactsCtes maintains it, built in one pass.
  const bucketed = BUCKETED_KINDS.map((k) => `'${k}'`).join(', ');
  await db.raw(
    `INSERT INTO service_rollup (shop_id, day, agent_id, kind, detail, bucket, n, seconds, timed)
     SELECT f.shop_id, (f.at AT TIME ZONE 'Asia/Shanghai')::date, COALESCE(f.agent_id, ''), f.kind, COALESCE(f.detail, ''),
            CASE WHEN f.kind IN (${bucketed}) THEN ${bucketSql('f.seconds')} ELSE -1 END, sum(f.n), COALESCE(sum(f.seconds), 0), count(f.seconds)
       FROM session_facts f WHERE f.shop_id = ? GROUP BY 1, 2, 3, 4, 5, 6`,
    [shopId],
  );
  await db.raw('VACUUM ANALYZE service_rollup');
}

async function main(): Promise<void> {
  step(`bench:reports — ${machineLine()}`);
  const infra = await startBenchInfra({ withTemporal: true });
  try {
    const created = await createShop(infra.db, { id: SHOP, name: 'Bench reports', timeZone: 'Asia/Shanghai' });
    const started = Date.now();
    step(`generating ${SESSIONS.toLocaleString()} sessions' facts over ${DAYS} days in SQL…`);
    await generate(infra.db, SHOP);
    const [{ facts }] = await infra.db('session_facts').count({ facts: '*' });
    const [{ rollup }] = await infra.db('service_rollup').count({ rollup: '*' });
    step(
      `generated in ${Math.round((Date.now() - started) / 1000)} s: ${Number(facts).toLocaleString()} facts, ${Number(rollup).toLocaleString()} rollup rows`,
    );
    const { app, base } = await startBenchApi(infra.db, infra.env!.client, 'bench-unused');
    const headers = { authorization: `Bearer ${created!.apiKey}` };
    const time = async (url: string) => {
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { totals?: { sessionsServed: number } };
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      return { ms: performance.now() - t0, body };
    };
    const range = `from=2026-09-01&to=2026-12-01`;
    const lines: string[] = [];
    for (const [name, url] of [
      ['floor: GET the shop', `${base}/${SHOP}`],
      ['report by day (92 days)', `${base}/${SHOP}/reports/service?${range}&groupBy=day`],
      ['report by agent', `${base}/${SHOP}/reports/service?${range}&groupBy=agent`],
      ['report by group', `${base}/${SHOP}/reports/service?${range}&groupBy=group`],
    ] as const) {
      await time(url); // warm
      const samples: number[] = [];
      let served = 0;
      for (let i = 0; i < TRIALS; i++) {
        const r = await time(url);
        samples.push(r.ms);
        served = r.body.totals?.sessionsServed ?? served;
      }
      samples.sort((a, b) => a - b);
      lines.push(
        `${name.padEnd(26)} p50 ${percentile(samples, 0.5).toFixed(1)} ms · max ${samples.at(-1)!.toFixed(1)} ms${served ? ` · ${served.toLocaleString()} sessions served in range` : ''}`,
      );
    }
    await app.close();
    for (const l of lines) console.log(l);
  } finally {
    await infra.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
