/**
 * The web console in a real headless Chromium (Debian's, driven by Playwright) against the real
 * stack: dev server, Postgres, worker, the API listening on loopback and serving /console/.
 * Each step is what a merchant or an agent does on the page; the outcome is checked both on the page
 * and through the API. With CONSOLE_SCREENSHOTS=1, every page is captured into .data/screenshots/ for
 * review (docs/console.md's pictures come from such a run); a failing test always leaves its pages there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureChromium } from '../../infra/provision/chromium';
import { buildConsole } from '../../scripts/build-console';
import { call, createAgentViaApi, createShopViaApi, startStack, type Stack } from '../support/stack';
import { CONDITION_TIMEOUT_MS, until } from '../support/wait';

const SHOP = 'console-a';
const OTHER_SHOP = 'console-b';
const SCREENSHOTS = path.resolve(__dirname, '..', '..', '.data', 'screenshots');
// A full-page capture costs a second of CPU beside the rest of the suite: only when asked for.
const TAKE_SHOTS = process.env.CONSOLE_SCREENSHOTS === '1';

let stack: Stack;
let baseUrl: string;
let browser: Browser;
let shopKey: string;
let otherKey: string;
let wang: { id: string; apiKey: string };
let li: { id: string; apiKey: string };
/** What the running test opened: its pages captured if it fails, closed when it ends (an open page keeps rendering). */
let testContexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    reducedMotion: 'reduce',
  });
  testContexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(CONDITION_TIMEOUT_MS);
  // A failing page says why in the test output.
  page.on('pageerror', (err) => process.stderr.write(`[browser] page error: ${err.message}\n`));
  page.on('response', (r) => r.status() >= 500 && process.stderr.write(`[browser] ${r.status()} ${r.url()}\n`));
  return page;
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByTestId('key-input').fill(key);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('page-title').waitFor();
}

async function open(page: Page, path: string): Promise<void> {
  await page.getByTestId(`nav-${path}`).click();
  await page.waitForFunction(`window.location.hash === '#/${path}'`);
}

async function shot(page: Page, name: string): Promise<void> {
  if (!TAKE_SHOTS) return;
  await page.waitForTimeout(300); // let antd's transitions settle so the picture is what a user sees
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const newAgent = (name: string, capacity: number) => createAgentViaApi(stack.app, SHOP, shopKey, { name, capacity });

async function startSession(sessionId: string, wantsHuman = true): Promise<void> {
  const res = await call(stack.app, 'POST', `/v1/shops/${SHOP}/sessions`, {
    key: shopKey,
    body: { sessionId, buyerId: `buyer-${sessionId}`, topic: 'presales', wantsHuman },
  });
  expect(res.status).toBe(201);
}

/** The shop day (YYYY-MM-DD in Asia/Shanghai, the shop's zone) of an instant: daily counts are per shop day. */
const shopDay = (ms: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);

/**
 * A half-hour HH:MM `hours` from now (the wall clock: the dev server runs on it) in the shop's zone,
 * so no scheduled run fires during the test.
 */
function shopHalfHour(hoursFromNow: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' }).format(new Date());
  return `${String((Number(parts) + hoursFromNow) % 24).padStart(2, '0')}:00`;
}

/** Types into an antd Select with search and takes the first match, as a keyboard user would. */
async function pickOption(page: Page, selectTestId: string, option: string): Promise<void> {
  await page.getByTestId(selectTestId).click();
  await page.keyboard.type(option);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
}

/** The <input> of an antd InputNumber, wherever antd put the test id. */
function numberInput(page: Page, testId: string) {
  return page.locator(`input[data-testid="${testId}"], [data-testid="${testId}"] input`).first();
}

beforeAll(async () => {
  buildConsole();
  const executablePath = ensureChromium();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // Pictures of an earlier run's failures would read as this run's.
  for (const f of fs.readdirSync(SCREENSHOTS)) if (f.startsWith('failed-')) fs.rmSync(path.join(SCREENSHOTS, f));
  stack = await startStack();
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  shopKey = await createShopViaApi(stack.app, SHOP);
  otherKey = await createShopViaApi(stack.app, OTHER_SHOP);
  // Distribution off while the pool fills, so nothing assigns before the merchant does.
  const off = await call(stack.app, 'PUT', `/v1/shops/${SHOP}/settings/distribution`, {
    key: shopKey,
    body: {
      settings: {
        enabled: false,
        scope: 'human_requested',
        windows: [{ start: '00:00', end: '23:30' }],
        target: { kind: 'routing_rules' },
        minOnlineAgents: 1,
        maxAvgPending: null,
        perAgentCap: 10,
      },
    },
  });
  expect(off.status).toBe(200);
  wang = await newAgent('小王', 5);
  li = await newAgent('小李', 5);
  const group = await call(stack.app, 'POST', `/v1/shops/${SHOP}/groups`, {
    key: shopKey,
    body: { name: '售前组', scopes: ['presales'], agentIds: [wang.id, li.id] },
  });
  expect(group.status).toBe(201);
  // Nobody online: these three buyers who asked for a human land in the offline-message pool.
  for (const id of ['pool-1', 'pool-2', 'pool-3']) await startSession(id);
  await until(
    () => call(stack.app, 'GET', `/v1/shops/${SHOP}/offline-messages?status=pending`, { key: shopKey }),
    (r) => r.body.items.length === 3,
    'three offline messages',
  );
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
}, 300_000);

beforeEach(() => {
  testContexts = [];
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') {
    const name = task.name.replace(/[^\p{L}\p{N}]+/gu, '-').slice(0, 60);
    for (const [i, page] of testContexts.flatMap((c) => c.pages()).entries()) {
      const file = path.join(SCREENSHOTS, `failed-${name}-${i + 1}.png`);
      if (await page.screenshot({ path: file, fullPage: true }).catch(() => null)) process.stderr.write(`[browser] captured ${file}\n`);
    }
  }
  for (const c of testContexts) await c.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('web console in Chromium', () => {
  it('signs in with a merchant key kept out of the URL, in Chinese first, and switches to English', async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/console/`);
    await page.getByTestId('key-input').fill('csk_not-a-key');
    await page.getByTestId('sign-in').click();
    await expect.poll(() => page.getByTestId('sign-in-error').textContent()).toContain('密钥无效');

    await signIn(page, shopKey);
    expect(await page.getByTestId('shop-name').textContent()).toBe(`Shop ${SHOP}`);
    expect(await page.getByTestId('page-title').textContent()).toBe('全部会话');
    expect(page.url()).not.toContain(shopKey);
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.getByTestId('live-status').and(page.locator('[data-connected="true"]')).waitFor();
    await page.getByTestId('sessions-table').getByText('pool-1', { exact: true }).waitFor();
    await shot(page, 'sessions');

    // The session's timeline, with the close that sent it to the pool and its snapshot.
    await page.getByTestId('sessions-table').getByText('pool-1', { exact: true }).click();
    const drawer = page.getByTestId('session-drawer');
    await drawer.getByTestId('session-timeline').getByText('会话开始').waitFor();
    await drawer.getByTestId('session-timeline').getByText('转为离线留言').waitFor();
    expect(await drawer.getByTestId('session-snapshot').textContent()).toContain('20');
    await shot(page, 'session-timeline');
    await page.keyboard.press('Escape');

    await page.getByTestId('lang-switch').click();
    expect(await page.getByTestId('page-title').textContent()).toBe('All sessions');
    await page.getByTestId('lang-switch').click();
    expect(await page.getByTestId('page-title').textContent()).toBe('全部会话');

    // A reload keeps the sign-in for this tab's session.
    await page.reload();
    expect(await page.getByTestId('page-title').textContent()).toBe('全部会话');
  });

  it('session settings: a rejected buyer-idle value is explained and nothing changes; a good one is saved', async () => {
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'session-settings');
    expect(await page.getByTestId('agent-reply-rule').textContent()).toContain('6 小时');
    const before = await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/session`, { key: shopKey });

    await numberInput(page, 'buyer-idle-input').fill('400');
    expect(await page.getByTestId('buyer-idle-error').textContent()).toContain('5 到 360');
    expect(await page.getByTestId('save-session-settings').isDisabled()).toBe(true);
    await numberInput(page, 'buyer-idle-input').fill('12.5');
    expect(await page.getByTestId('buyer-idle-error').textContent()).toContain('整数');
    await shot(page, 'session-settings-rejected');
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/session`, { key: shopKey })).body).toEqual(before.body);

    await numberInput(page, 'buyer-idle-input').fill('30');
    await page.getByTestId('save-session-settings').click();
    await expect
      .poll(async () => (await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/session`, { key: shopKey })).body)
      .toMatchObject({ buyerIdleMinutes: 30, version: before.body.version + 1 });
    await expect.poll(() => page.getByTestId('session-settings-version').textContent()).toBe(String(before.body.version + 1));
    await shot(page, 'session-settings');
  });

  it('auto-distribution: overlapping windows are explained, the dry run previews, the save is versioned with its next slot', async () => {
    const online = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${wang.id}`, { key: shopKey, body: { status: 'online' } });
    expect(online.status).toBe(200);
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'distribution');
    await page.getByTestId('enabled').click();

    // A second window inside the first: the same rule the API applies, explained before saving.
    await page.getByTestId('add-window').click();
    await page.getByTestId('settings-violation').waitFor();
    expect(await page.getByTestId('settings-violation').textContent()).toContain('时间段不能重叠');
    expect(await page.getByTestId('save-distribution').isDisabled()).toBe(true);

    const [start, end] = [shopHalfHour(6), shopHalfHour(8)];
    const [start2, end2] = [shopHalfHour(9), shopHalfHour(10)];
    await pickOption(page, 'window-0-start', start);
    await pickOption(page, 'window-0-end', end);
    await pickOption(page, 'window-1-start', start2);
    await pickOption(page, 'window-1-end', end2);
    await page.getByTestId('settings-violation').waitFor({ state: 'detached' });
    expect(await page.getByTestId('proposed-next-slot').textContent()).toContain(start);

    await page.getByTestId('dry-run').click();
    await page.getByTestId('dry-run-result').waitFor();
    // Three pending messages from buyers who asked for a human, one online agent with room for 5.
    expect(await page.getByTestId('dry-run-assigned').textContent()).toBe('3');
    await shot(page, 'distribution-settings');
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/offline-messages?status=pending`, { key: shopKey })).body.items).toHaveLength(
      3,
    );

    const before = await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/distribution`, { key: shopKey });
    await page.getByTestId('save-distribution').click();
    const saved = await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/distribution`, { key: shopKey }),
      (r) => r.body.version === before.body.version + 1,
      'saved distribution settings',
    );
    expect(saved.body.settings).toMatchObject({
      enabled: true,
      windows: [
        { start, end },
        { start: start2, end: end2 },
      ],
    });
    await expect.poll(() => page.getByTestId('next-slot').textContent()).toContain(start);
  });

  it('the pool: select, assign to an agent, see the records; the agent sees 离线留言分配', async () => {
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'pool');
    const table = page.getByTestId('pool-table');
    await table.getByText('pool-1', { exact: true }).waitFor();
    for (const id of ['pool-1', 'pool-2']) await table.locator('tr', { hasText: id }).locator('input[type="checkbox"]').check();
    await pickOption(page, 'assign-agent', '小王');
    await page.getByTestId('assign-button').click();

    await until(
      () => call(stack.app, 'GET', `/v1/shops/${SHOP}/offline-messages?status=pending`, { key: shopKey }),
      (r) => r.body.items.length === 1,
      'one message left in the pool',
    );
    // The table follows without a reload; the records name the operator (the merchant key) and the message.
    await table.getByText('pool-1', { exact: true }).waitFor({ state: 'detached' });
    const records = page.getByTestId('records-table');
    await records.getByText('pool-2', { exact: true }).waitFor();
    expect(await records.textContent()).toContain('离线留言分配');
    expect(await records.textContent()).toContain('手动分配');

    // One run now: the last message goes to the online agent, an automatic assignment counted on the
    // shop day the run recorded it.
    await page.getByTestId('run-now').click();
    await page.getByTestId('runs-table').getByText('手动执行').waitFor();
    await table.getByText('pool-3', { exact: true }).waitFor({ state: 'detached' });
    const runs = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/runs`, { key: shopKey });
    const runDay = shopDay(Date.parse(runs.body.items.find((r: { trigger: string }) => r.trigger === 'manual').at));
    const daily = await call(stack.app, 'GET', `/v1/shops/${SHOP}/distribution/daily-counts`, { key: shopKey });
    expect(daily.body.items).toEqual([{ day: runDay, autoAssigned: 1 }]);
    // The page counts the day it renders in (the browser's clock, in the shop's zone): 1 on the run's
    // day. Should Shanghai's midnight (16:00 UTC) have passed since the run, today is a new day with 0.
    const shownToday = async () => (await page.getByTestId('today-auto-assigned').textContent())?.replace(/\D/g, '');
    await expect.poll(async () => (await shownToday()) === '1' || shopDay(Date.now()) !== runDay).toBe(true);
    if (shopDay(Date.now()) !== runDay) {
      await page.reload();
      await page.getByTestId('page-title').waitFor();
      await open(page, 'pool');
      await expect.poll(shownToday).toBe('0');
    }
    expect(await records.textContent()).toContain('系统自动分配');
    await shot(page, 'pool');

    const desk = await newPage();
    await signIn(desk, wang.apiKey);
    expect(await desk.getByTestId('page-title').textContent()).toBe('我的工作台');
    await desk.getByTestId('my-session-pool-1').waitFor();
    expect(await desk.getByTestId('my-session-pool-1').getByTestId('transfer-message').textContent()).toContain('离线留言分配');
    await shot(desk, 'agent-desk');
  });

  it('an agent goes 小休 on their page and the merchant sees it live; a session queues and is assigned live', async () => {
    const merchant = await newPage();
    await signIn(merchant, shopKey);
    await open(merchant, 'agents');
    await merchant.getByTestId('live-status').and(merchant.locator('[data-connected="true"]')).waitFor();
    expect(await merchant.getByTestId(`agent-status-${wang.id}`).textContent()).toBe('在线');

    const desk = await newPage();
    await signIn(desk, wang.apiKey);
    await desk.getByTestId('my-status').getByText('小休').click();
    await expect.poll(() => merchant.getByTestId(`agent-status-${wang.id}`).textContent()).toBe('小休');
    await shot(merchant, 'agents');

    // 小王 back online, full at 2 seats (pool-1..3 hold 3): the next buyer queues, and the queue page follows.
    await desk.getByTestId('my-status').getByText('在线').click();
    await expect.poll(() => merchant.getByTestId(`agent-status-${wang.id}`).textContent()).toBe('在线');
    await numberInput(desk, 'my-capacity').fill('2');
    await desk.getByTestId('save-capacity').click();
    await expect
      .poll(async () => (await call(stack.app, 'GET', `/v1/shops/${SHOP}/agents/${wang.id}`, { key: shopKey })).body.capacity)
      .toBe(2);

    await open(merchant, 'queue');
    await startSession('queued-1');
    await merchant.getByTestId('queue-table').getByText('queued-1', { exact: true }).waitFor();
    await shot(merchant, 'queue');
    await numberInput(desk, 'my-capacity').fill('4');
    await desk.getByTestId('save-capacity').click();
    await merchant.getByTestId('queue-table').getByText('queued-1', { exact: true }).waitFor({ state: 'detached' });
    expect((await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/queued-1`, { key: shopKey })).body.session).toMatchObject({
      status: 'active',
      agentId: wang.id,
    });
    await desk.getByTestId('my-session-queued-1').waitFor();
  });

  it('转接: an agent hands a session to a colleague from the desk with a note; both desks update live', async () => {
    const online = await call(stack.app, 'PATCH', `/v1/shops/${SHOP}/agents/${li.id}`, { key: shopKey, body: { status: 'online' } });
    expect(online.status).toBe(200);
    const liDesk = await newPage();
    await signIn(liDesk, li.apiKey);
    await liDesk.getByTestId('live-status').and(liDesk.locator('[data-connected="true"]')).waitFor();
    const wangDesk = await newPage();
    await signIn(wangDesk, wang.apiKey);
    const row = wangDesk.getByTestId('my-session-queued-1');
    await row.waitFor();
    // The timer that will act on it, named for its rule.
    expect(await row.getByTestId('countdown-queued-1').textContent()).toMatch(/客服 6 小时未回复|买家超时未回复/);
    await shot(wangDesk, 'agent-desk-countdown');

    await row.getByTestId('transfer-queued-1').click();
    await pickOption(wangDesk, 'transfer-target', '小李');
    await wangDesk.getByTestId('transfer-note').fill('买家要开发票，请跟进');
    await shot(wangDesk, 'transfer-dialog');
    await wangDesk.getByTestId('transfer-confirm').click();

    await wangDesk.getByTestId('my-session-queued-1').waitFor({ state: 'detached' });
    const arrived = liDesk.getByTestId('my-session-queued-1');
    await arrived.waitFor();
    expect(await arrived.getByTestId('transfer-message').textContent()).toContain('转接');
    await shot(liDesk, 'agent-desk-transferred');
    const read = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions/queued-1`, { key: shopKey });
    expect(read.body.session.agentId).toBe(li.id);
    expect(read.body.transfers).toMatchObject([{ fromAgentId: wang.id, toAgentId: li.id, note: '买家要开发票，请跟进' }]);
    expect(read.body.transfers[0].operator).toContain(`agent ${wang.id}`);
  });

  it('服务数据: the merchant sees the figures charted by day, by agent and by group, and exports a table as CSV matching the API', async () => {
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'service');
    await page.getByTestId('service-chart').locator('canvas').first().waitFor();
    await page.getByTestId('service-totals').waitFor();
    const api = await call(stack.app, 'GET', `/v1/shops/${SHOP}/reports/service?groupBy=agent`, { key: shopKey });
    expect(api.status).toBe(200);
    // The earlier tests assigned and transferred sessions today.
    expect(api.body.totals.sessionsServed).toBeGreaterThan(0);
    expect(api.body.totals.transfers).toBeGreaterThanOrEqual(1);
    await shot(page, 'service-levels-by-day');

    await page.getByTestId('service-grouping').getByText('按客服').click();
    const table = page.getByTestId('service-table-agent');
    await table.getByText('小李').waitFor();
    await shot(page, 'service-levels-by-agent');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-agent').click()]);
    const csv = fs.readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const [header, ...lines] = csv.split('\n').map((l) => l.split(','));
    expect(header.slice(0, 3)).toEqual(['名称', '接待会话', '首响中位数(秒)']);
    for (const row of api.body.rows as { label: string; sessionsServed: number; transfers: number }[]) {
      const line = lines.find((l) => l[0] === row.label)!;
      expect(line[1]).toBe(String(row.sessionsServed));
      expect(line[header.indexOf('转接')]).toBe(String(row.transfers));
    }
    await page.getByTestId('service-grouping').getByText('按分组').click();
    await page.getByTestId('service-table-group').waitFor();
  });

  it('会话配置: the handoff settings are saved with the API rules', async () => {
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'session-settings');
    await numberInput(page, 'agent-left-grace').fill('61');
    await page.getByTestId('agent-left-error').waitFor();
    expect(await page.getByTestId('save-session-settings').isDisabled()).toBe(true);
    await numberInput(page, 'agent-left-grace').fill('10');
    await page.getByTestId('first-reply-on').click();
    await numberInput(page, 'first-reply-minutes').fill('4');
    await page.getByTestId('save-session-settings').click();
    await expect
      .poll(async () => {
        const r = await call(stack.app, 'GET', `/v1/shops/${SHOP}/settings/session`, { key: shopKey });
        return [r.body.agentLeft, r.body.firstReplyMinutes];
      })
      .toEqual([{ mode: 'reroute', graceMinutes: 10 }, 4]);
    await shot(page, 'session-settings-handoffs');
  });

  it('a merchant adds an agent and a routing group on the page; the agent signs in with the key shown once', async () => {
    const page = await newPage();
    await signIn(page, shopKey);
    await open(page, 'agents');
    await page.getByTestId('add-agent').click();
    await page.getByTestId('new-agent-name').fill('小张');
    await page.getByTestId('create-agent').click();
    const key = (await page.getByTestId('new-agent-key').locator('code').first().textContent())?.trim() ?? '';
    expect(key).toMatch(/^csk_/);

    await page.getByTestId('agents-table').getByText('小张', { exact: true }).waitFor();

    await page.getByTestId('add-group').click();
    await page.getByTestId('group-name').fill('售后组');
    await page.getByTestId('group-scopes').click();
    await page.keyboard.type('aftersales');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await page.getByTestId('save-group').click();
    await page.getByTestId('groups-table').getByText('售后组', { exact: true }).waitFor();
    const groups = await call(stack.app, 'GET', `/v1/shops/${SHOP}/groups`, { key: shopKey });
    expect(groups.body.items.find((g: { name: string }) => g.name === '售后组')).toMatchObject({ scopes: ['aftersales'] });

    const desk = await newPage();
    await signIn(desk, key);
    expect(await desk.getByTestId('key-kind').textContent()).toContain('小张');
  });

  it('a page whose script is gone (a console deployed since the tab opened) says so and offers a reload', async () => {
    const page = await newPage();
    await page.route(/\/assets\/ServiceLevels-[^/]*\.js$/, (route) => route.abort());
    await signIn(page, shopKey);
    await page.getByTestId('nav-service').click();
    await page.getByTestId('reload-page').waitFor();
    // The rest of the console still works.
    await open(page, 'sessions');
    await page.getByTestId('page-title').getByText('全部会话').waitFor();
  });

  it("another shop's key sees nothing of this shop", async () => {
    const page = await newPage();
    await signIn(page, otherKey);
    expect(await page.getByTestId('shop-name').textContent()).toBe(`Shop ${OTHER_SHOP}`);
    await page.getByTestId('sessions-table').locator('.ant-empty').waitFor();
    expect(await page.getByTestId('sessions-table').textContent()).not.toContain('pool-');
    await open(page, 'pool');
    await page.getByTestId('pool-table').locator('.ant-empty').waitFor();
    await open(page, 'agents');
    await page.getByTestId('agents-table').locator('.ant-empty').waitFor();
    expect(await page.getByTestId('agents-table').textContent()).not.toContain('小王');
    // Its key does not reach this shop's paths either, whatever the page would ask.
    const probe = await page.evaluate(
      async ([shop, key]) => (await fetch(`/v1/shops/${shop}/sessions`, { headers: { authorization: `Bearer ${key}` } })).status,
      [SHOP, otherKey],
    );
    expect(probe).toBe(403);
    // An agent's key reads its own sessions only: 小李 holds just the one transferred to them.
    const liSees = await call(stack.app, 'GET', `/v1/shops/${SHOP}/sessions`, { key: li.apiKey });
    expect(liSees.status).toBe(200);
    expect(liSees.body.items.map((x: { sessionId: string; agentId: string }) => [x.sessionId, x.agentId])).toEqual([['queued-1', li.id]]);
  });
});
