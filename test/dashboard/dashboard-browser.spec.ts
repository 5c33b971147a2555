import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { DeadLetters } from '../../lib/engine/dead-letters';
import { connectTestRedis, waitFor } from '../support/test-redis';
import { DashboardTestApp, HTTP_PLATFORMS, INDEXER, ORDERS, startDashboardApp } from './dashboard-test-app';

// The dashboard in a real headless Chromium (Debian's, driven by playwright-core): the page
// shows a consumer's lag rising while it is stopped and falling once it runs again, and draws
// it; read-only hides the actions; an action works from the page; Express and Fastify alike.

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium dials out at start, which this machine's
// closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

/** Installs Debian's chromium when it is missing; the reason it is not there otherwise. */
function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'ignore',
      timeout: 600_000,
    });
  } catch (error) {
    return `apt-get install chromium failed: ${(error as Error).message.split('\n')[0]}`;
  }
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing after apt-get install chromium`;
}

const missing = chromiumMissing();
if (missing) console.warn(`dashboard browser tests skipped: ${missing}`);
const describeInBrowser = missing ? describe.skip : describe;

describeInBrowser(`dashboard in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let browser: Browser;
  let running: DashboardTestApp[] = [];
  let pages: Page[] = [];
  /** What went wrong in the open page: script errors, failed loads, requests elsewhere. */
  let problems: string[];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(() => browser?.close());
  afterEach(async () => {
    // Pages first: one left polling a closed app would only log refused connections.
    await Promise.all(pages.map((page) => page.close()));
    pages = [];
    await Promise.all(running.map(({ app }) => app.close()));
    running = [];
  });

  async function start(...args: Parameters<typeof startDashboardApp>): Promise<DashboardTestApp> {
    const started = await startDashboardApp(...args);
    running.push(started);
    return started;
  }

  /** A page that records script errors, CSP violations and any request to another origin. */
  async function open(url: string, path = '/redstream', viewport = { width: 1280, height: 720 }): Promise<Page> {
    problems = [];
    const page = await browser.newPage({ viewport });
    pages.push(page);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(url) && !request.url().startsWith('data:')) {
        problems.push(`request elsewhere: ${request.url()}`);
      }
    });
    await page.goto(`${url}${path}`);
    return page;
  }

  const CONSUMER_ROW = `section[data-stream="${ORDERS}"] tr[data-consumer="${INDEXER}"]`;

  async function shownLag(page: Page): Promise<{ lag: number; active: string | null }> {
    const row = page.locator(CONSUMER_ROW);
    return { lag: Number(await row.getAttribute('data-lag')), active: await row.getAttribute('data-active') };
  }

  /** The chart's points of the indexer's line, as [x, y] in SVG units (y grows downwards). */
  async function chartPoints(page: Page): Promise<[number, number][]> {
    const points = await page
      .locator(`section[data-stream="${ORDERS}"] polyline[data-series="${INDEXER}"]`)
      .getAttribute('points');
    return (points ?? '')
      .split(' ')
      .filter(Boolean)
      .map((pair) => pair.split(',').map(Number) as [number, number]);
  }

  it('shows the lag rising while the consumer is stopped and falling once it runs, with a chart', async () => {
    const { url, producer, registry, redstream, indexer, stopIndexer } = await start({
      // A short chart window, so the screenshot shows the rise and fall across the chart.
      dashboard: { pollIntervalMs: 250, chartWindowMs: 10_000 },
    });
    // Something in every column of the screenshot: a delay backlog, a dead letter, a group.
    const redis = connectTestRedis();
    try {
      await producer.delay(ORDERS, { id: 0 });
      const [first] = await producer.queue(ORDERS, { id: -1 });
      await new DeadLetters(redstream.client, redstream.keys).write(
        ORDERS,
        first,
        { kind: 'consumer', consumer: INDEXER },
        { error: new Error('price is not a number'), attempts: 5 },
      );
      await redis.xgroup('CREATE', redstream.keys.stream(ORDERS), 'audit', '$');
    } finally {
      await redis.quit();
    }

    // A steady trickle of orders, as an application would write them.
    let producing = true;
    let written = 0;
    const writer = (async () => {
      while (producing) {
        await producer.queue(ORDERS, { id: ++written });
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();

    try {
      const page = await open(url, '/redstream', { width: 1200, height: 400 });
      await page.waitForSelector(CONSUMER_ROW);
      await waitFor(async () => {
        const shown = await shownLag(page);
        return shown.active === 'true' && shown.lag < 10;
      }, 20_000);

      await stopIndexer();
      const stoppedAt = indexer.handled;
      // Rising: each reading on the page is above the one before, and the consumer handled nothing.
      const readings: number[] = [];
      for (const threshold of [10, 25, 40]) {
        const shown = await waitFor(async () => {
          const lag = await shownLag(page);
          return lag.active === 'false' && lag.lag >= threshold ? lag : undefined;
        }, 20_000);
        readings.push(shown.lag);
      }
      expect(readings[2]).toBeGreaterThan(readings[0]);
      expect(indexer.handled).toBe(stoppedAt);
      const peak = readings[2];

      registry.start(ORDERS, INDEXER);
      const fallen = await waitFor(async () => {
        const shown = await shownLag(page);
        return shown.active === 'true' && shown.lag < peak / 4 ? shown : undefined;
      }, 20_000);
      expect(fallen.lag).toBeLessThan(peak);

      // The chart drew it: a line whose highest point (smallest y) lies well above its last one.
      const points = await chartPoints(page);
      expect(points.length).toBeGreaterThan(5);
      const highest = Math.min(...points.map(([, y]) => y));
      const last = points[points.length - 1][1];
      expect(last - highest).toBeGreaterThan(20);
      expect(await page.locator(`section[data-stream="${ORDERS}"] polyline[data-series="group audit"]`).count()).toBe(
        1,
      );

      // The summary and the group table are filled in.
      const summary = page.locator(`section[data-stream="${ORDERS}"] dd[data-field="dead-letters"]`);
      expect(await summary.getAttribute('data-value')).toBe('1');
      const backlog = page.locator(`section[data-stream="${ORDERS}"] dd[data-field="delay-backlog"]`);
      expect(Number(await backlog.getAttribute('data-value'))).toBeGreaterThanOrEqual(1);
      expect(await page.locator(`section[data-stream="${ORDERS}"] tr[data-group="audit"]`).count()).toBe(1);
      // Read-only (the default): no actions on the page.
      expect(await page.locator('.actions, button').count()).toBe(0);
      expect(await page.locator('#mode').textContent()).toBe('read-only');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      producing = false;
      await writer;
    }
  }, 120_000);

  it('with readOnly: false and a guard, replays dead letters and rewinds from the page', async () => {
    const { url, producer, redstream, registry, indexer, stopIndexer } = await start({
      dashboard: { readOnly: false, guard: { canActivate: () => true }, pollIntervalMs: 250 },
    });
    const ids = await producer.queue(ORDERS, [{ id: 1 }, { id: 2 }]);
    await waitFor(() => indexer.handled === 2);
    await new DeadLetters(redstream.client, redstream.keys).write(
      ORDERS,
      ids[0],
      { kind: 'consumer', consumer: INDEXER },
      { error: new Error('failed'), attempts: 3 },
    );
    const page = await open(url);
    page.on('dialog', (dialog) => void dialog.accept());
    const section = `section[data-stream="${ORDERS}"]`;
    await page.waitForSelector(`${section} dd[data-field="dead-letters"][data-value="1"]`);
    expect(await page.locator('#mode').textContent()).toBe('actions enabled');

    await page.click(`${section} button[data-action="replay"]`);
    await page.waitForSelector(`${section} dd[data-field="dead-letters"][data-value="0"]`);
    expect(await page.locator(`${section} .notice`).textContent()).toBe('replayed 1');
    await waitFor(() => indexer.handled === 3);

    // A running consumer cannot be rewound: the page says why.
    await page.selectOption(`${section} select[data-field="rewind-consumer"]`, INDEXER);
    await page.fill(`${section} input[data-field="rewind-to"]`, 'start');
    await page.click(`${section} button[data-action="rewind"]`);
    await page.waitForSelector(`${section} .notice.error`);
    expect(await page.locator(`${section} .notice`).textContent()).toMatch(/is active/);
    expect(problems).toEqual([expect.stringContaining('status of 409')]);
    problems.length = 0;

    // Stopped, it is rewound, and reads the three entries again once started.
    await stopIndexer();
    await page.waitForSelector(`${CONSUMER_ROW}[data-active="false"]`);
    // The offset typed before survives the polls that re-rendered the tables.
    expect(await page.inputValue(`${section} input[data-field="rewind-to"]`)).toBe('start');
    await page.click(`${section} button[data-action="rewind"]`);
    await page.waitForSelector(`${CONSUMER_ROW}[data-lag="3"]`);
    expect(await page.locator(`${section} .notice`).textContent()).toBe(`${INDEXER} will read after 0-0`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-actions.png'), fullPage: true });
    registry.start(ORDERS, INDEXER);
    await waitFor(() => indexer.handled === 6);
    expect(problems).toEqual([]);
  }, 60_000);

  for (const [platform, skipped] of HTTP_PLATFORMS) {
    (skipped ? it.skip : it)(
      `is served by ${platform}, also below a global prefix${skipped ? ` (skipped: ${skipped})` : ''}`,
      async () => {
        const { url, producer, indexer } = await start({ platform, globalPrefix: 'admin', dashboard: { path: 'ops' } });
        await producer.queue(ORDERS, { id: 1 });
        await waitFor(() => indexer.handled === 1);
        const page = await open(url, '/admin/ops');
        await page.waitForSelector(`${CONSUMER_ROW}[data-active="true"]`);
        expect(await page.locator('#state').textContent()).toMatch(/^updated /);
        expect(problems).toEqual([]);
      },
      60_000,
    );
  }
});
