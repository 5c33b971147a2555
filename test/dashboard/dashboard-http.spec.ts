import { CanActivate, ExecutionContext, Injectable, Module } from '@nestjs/common';
import { RedstreamConfigError } from '../../lib';
import { RedstreamDashboardModule, RedstreamDashboardStatus } from '../../lib/dashboard';
import { DeadLetters } from '../../lib/engine/dead-letters';
import { waitFor } from '../support/test-redis';
import { DashboardTestApp, HTTP_PLATFORMS, INDEXER, ORDERS, startDashboardApp } from './dashboard-test-app';

// The dashboard's routes over real HTTP, on Express and on Fastify: the page and its assets,
// the status JSON, read-only mode, the guard, and the actions.

let running: DashboardTestApp[] = [];

async function start(...args: Parameters<typeof startDashboardApp>): Promise<DashboardTestApp> {
  const started = await startDashboardApp(...args);
  running.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(running.map(({ app }) => app.close()));
  running = [];
});

/** The status of a GET, its body read (an unread body would keep the connection open after the test). */
async function statusOf(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

for (const [platform, skipped] of HTTP_PLATFORMS) {
  (skipped ? describe.skip : describe)(`dashboard on ${platform}${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
    it('serves the page, its script and style, and the status of every stream', async () => {
      const { url, producer, indexer } = await start({ platform });
      await producer.queue(ORDERS, { id: 1 });
      await waitFor(() => indexer.handled === 1);

      const page = await fetch(`${url}/redstream`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).toContain('data-base="/redstream"');
      expect(html).toContain('data-read-only="true"');
      expect(html).toContain('<script src="/redstream/dashboard.js"></script>');
      // Nothing from elsewhere: every URL in the page is its own.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

      const script = await fetch(`${url}/redstream/dashboard.js`);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(await script.text()).toContain("'/api/status'");
      const styles = await fetch(`${url}/redstream/dashboard.css`);
      expect(styles.headers.get('content-type')).toMatch(/^text\/css/);
      expect(await styles.text()).toContain('.chart');

      const { status, body } = await getJson<RedstreamDashboardStatus>(`${url}/redstream/api/status`);
      expect(status).toBe(200);
      expect(body.readOnly).toBe(true);
      expect(body.time).toBeGreaterThan(Date.now() - 60_000);
      expect(body.streams).toEqual([
        expect.objectContaining({
          stream: ORDERS,
          length: 1,
          deadLetters: 0,
          consumers: [expect.objectContaining({ name: INDEXER, lag: 0, active: true })],
        }),
      ]);
    });

    it('read-only (the default) refuses replay and rewind', async () => {
      const { url } = await start({ platform, withIndexer: false });
      for (const [action, body] of [
        ['replay-dead-letters', { stream: ORDERS }],
        ['rewind', { stream: ORDERS, consumer: INDEXER, to: 'start' }],
      ] as const) {
        const response = await postJson(`${url}/redstream/api/${action}`, body);
        expect({ action, status: response.status, message: response.body.message }).toEqual({
          action,
          status: 403,
          message: expect.stringContaining('read-only'),
        });
      }
    });

    it('serves at the configured path, after the global prefix', async () => {
      const { url } = await start({ platform, dashboard: { path: 'ops/streams/' }, globalPrefix: 'admin' });
      expect(await statusOf(`${url}/redstream`)).toBe(404);
      const html = await (await fetch(`${url}/admin/ops/streams`)).text();
      expect(html).toContain('<script src="/admin/ops/streams/dashboard.js"></script>');
      expect(await statusOf(`${url}/admin/ops/streams/dashboard.js`)).toBe(200);
      expect((await getJson(`${url}/admin/ops/streams/api/status`)).status).toBe(200);
    });
  });
}

@Injectable()
class AdminTokens {
  readonly token = 'let-me-in';
}

@Module({ providers: [AdminTokens], exports: [AdminTokens] })
class AdminModule {}

/** Reads for everyone; actions only with the admin token (a guard class with a dependency). */
@Injectable()
class AdminGuard implements CanActivate {
  calls = 0;
  constructor(private readonly tokens: AdminTokens) {}

  canActivate(context: ExecutionContext): boolean {
    this.calls++;
    const request = context
      .switchToHttp()
      .getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    return request.method === 'GET' || request.headers['x-admin-token'] === this.tokens.token;
  }
}

describe('dashboard options', () => {
  it('refuses readOnly: false without a guard, at bootstrap', () => {
    expect(() => RedstreamDashboardModule.forRoot({ readOnly: false })).toThrow(RedstreamConfigError);
    expect(() => RedstreamDashboardModule.forRoot({ readOnly: false })).toThrow(/needs a guard/);
  });

  it.each([
    [{ path: '/' }, /path/],
    [{ path: '/streams/:name' }, /path/],
    [{ path: 7 as unknown as string }, /path/],
    [{ pollIntervalMs: 0 }, /pollIntervalMs/],
    [{ guard: {} as CanActivate }, /guard/],
    [{ streams: ['bad name'] }, /letters, digits/],
  ])('refuses invalid options: %p', (options, message) => {
    expect(() => RedstreamDashboardModule.forRoot(options)).toThrow(message);
  });
});

describe('dashboard guard and actions', () => {
  it('a guard instance that says no refuses the page, the status and the actions', async () => {
    const { url } = await start({ dashboard: { guard: { canActivate: () => false } } });
    for (const path of ['', '/dashboard.js', '/api/status']) {
      expect({ path, status: await statusOf(`${url}/redstream${path}`) }).toEqual({ path, status: 403 });
    }
    expect((await postJson(`${url}/redstream/api/rewind`, {})).status).toBe(403);
  });

  it('with readOnly: false, a guard class decides; replay and rewind work behind it', async () => {
    const { url, app, producer, indexer, registry, redstream, stopIndexer } = await start({
      dashboard: { readOnly: false, guard: AdminGuard, imports: [AdminModule] },
    });
    const admin = { 'x-admin-token': 'let-me-in' };
    const ids = await producer.queue(ORDERS, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await waitFor(() => indexer.handled === 3);
    const status = await getJson<RedstreamDashboardStatus>(`${url}/redstream/api/status`);
    expect(status.body.readOnly).toBe(false);

    // The guard refuses an action without the token.
    expect((await postJson(`${url}/redstream/api/replay-dead-letters`, { stream: ORDERS })).status).toBe(403);

    // A dead letter, as a consumer that gave up on entry 2 would write it, replayed onto the stream.
    const written = await new DeadLetters(redstream.client, redstream.keys).write(
      ORDERS,
      ids[1],
      { kind: 'consumer', consumer: INDEXER },
      { error: new Error('failed'), attempts: 3 },
    );
    expect(written.status).toBe('written');
    const replay = await postJson(`${url}/redstream/api/replay-dead-letters`, { stream: ORDERS }, admin);
    expect(replay.status).toBe(200);
    expect(replay.body.replayed).toHaveLength(1);
    await waitFor(() => indexer.handled === 4);
    expect((await redstream.deadLetters(ORDERS)).deadLetters).toHaveLength(0);

    // Rewinding a running consumer is refused: it would commit over the new offset.
    const refused = await postJson(
      `${url}/redstream/api/rewind`,
      { stream: ORDERS, consumer: INDEXER, to: 'start' },
      admin,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/active.*Stop it/);

    // Stopped, it is rewound to read from entry 2 on, and handles 2, 3 and the replayed one again.
    await stopIndexer();
    const rewound = await postJson(
      `${url}/redstream/api/rewind`,
      { stream: ORDERS, consumer: INDEXER, to: ids[1] },
      admin,
    );
    expect(rewound.status).toBe(200);
    expect(rewound.body).toEqual({ stream: ORDERS, consumer: INDEXER, previous: expect.any(String), offset: ids[0] });
    expect(await redstream.committedOffset(ORDERS, INDEXER)).toBe(ids[0]);
    registry.start(ORDERS, INDEXER);
    await waitFor(() => indexer.handled === 7);

    expect(app.get(AdminGuard).calls).toBeGreaterThan(0);
  });

  it('checks what the browser sends', async () => {
    const { url, producer, stopIndexer } = await start({
      dashboard: { readOnly: false, guard: { canActivate: () => true }, streams: [ORDERS] },
    });
    await producer.queue(ORDERS, { id: 1 });
    await stopIndexer();
    const rewind = (body: unknown): Promise<{ status: number; body: Record<string, unknown> }> =>
      postJson(`${url}/redstream/api/rewind`, body);

    // A form post (what another site could send) is not JSON.
    const form = await fetch(`${url}/redstream/api/rewind`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'stream=orders&consumer=indexer&to=start',
    });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { message: string }).message).toMatch(/only as JSON/);
    // The target is read as the CLI's --to is, and refused in the same words.
    const garbage = await rewind({ stream: ORDERS, consumer: INDEXER, to: 'yesterday' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.message).toBe(
      'Redstream dashboard: rewind: the target must be "start", "end", a stream id (<ms>-<seq>) or an ISO 8601 ' +
        'time such as 2026-11-30T08:00:00Z; got "yesterday"',
    );
    expect((await rewind({ stream: ORDERS, consumer: INDEXER, to: 42 })).status).toBe(400);
    expect((await rewind({ stream: ORDERS, consumer: INDEXER, offset: '0-0' })).status).toBe(400);
    expect((await rewind({ stream: 'other', consumer: INDEXER, to: 'start' })).body.message).toMatch(
      /not shown on this dashboard/,
    );
    expect((await rewind({ stream: ORDERS, consumer: 'bad name', to: 'start' })).status).toBe(400);
    // The valid requests of the lot go through: an ISO 8601 time as well as end.
    const byTime = await rewind({ stream: ORDERS, consumer: INDEXER, to: '2000-01-01T00:00:00Z' });
    expect(byTime).toMatchObject({ status: 200, body: { offset: '0-0' } });
    expect((await rewind({ stream: ORDERS, consumer: INDEXER, to: 'end' })).status).toBe(200);
    const replay = await postJson(`${url}/redstream/api/replay-dead-letters`, { stream: ORDERS, ids: ['x'] });
    expect(replay.status).toBe(400);
  });
});
