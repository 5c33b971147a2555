import { connect, Socket } from 'node:net';
import Redis from 'ioredis';
import { TcpProxy } from '../support/tcp-proxy';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// The chaos soak is only as good as its faults: each mode of the proxy must do what it says.
describe('TcpProxy', () => {
  let proxy: TcpProxy;
  // Only the test that reads Redis directly connects: a client closed during its ready check
  // (a fast test) makes ioredis disconnect the closed socket again, arming a 2 s timer that
  // outlives the suite.
  let direct: Redis | undefined;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    proxy = await TcpProxy.start(Number(new URL(testRedisUrl()).port));
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    await direct?.quit();
    direct = undefined;
  });

  /** A raw RESP connection through the proxy: no client library retries or re-sends anything. */
  async function rawConnection(): Promise<{ socket: Socket; replies: string[]; closed: Promise<string> }> {
    const socket = connect(proxy.port, '127.0.0.1');
    sockets.push(socket);
    const replies: string[] = [];
    socket.on('data', (data) => replies.push(data.toString()));
    const closed = new Promise<string>((resolve) => {
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on('close', () => resolve('closed'));
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, replies, closed };
  }

  async function roundTrip(socket: Socket, replies: string[], timeoutMs: number): Promise<number | undefined> {
    const before = replies.length;
    const startedAt = Date.now();
    socket.write('PING\r\n');
    while (Date.now() - startedAt < timeoutMs) {
      if (replies.length > before) return Date.now() - startedAt;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return undefined;
  }

  it('forwards, and adds latency in both directions', async () => {
    // 300 ms each way: a loaded 2-core machine may stall a plain round trip by 100-200 ms, never
    // by the 600 ms the proxy adds.
    const { socket, replies } = await rawConnection();
    expect(await roundTrip(socket, replies, 2_000)).toBeLessThan(300);
    proxy.setLatency(300);
    expect(await roundTrip(socket, replies, 2_000)).toBeGreaterThanOrEqual(590);
    proxy.heal();
    expect(await roundTrip(socket, replies, 2_000)).toBeLessThan(300);
  });

  it('holds every byte during a blackhole and delivers them after heal', async () => {
    const { socket, replies } = await rawConnection();
    proxy.blackhole();
    expect(await roundTrip(socket, replies, 300)).toBeUndefined();
    const late = await rawConnection();
    expect(await roundTrip(late.socket, late.replies, 300)).toBeUndefined();
    proxy.heal();
    await waitFor(() => replies.length > 0 && late.replies.length > 0, 2_000);
    expect(replies.join('')).toBe('+PONG\r\n');
    expect(late.replies.join('')).toBe('+PONG\r\n');
  });

  it('stalls open connections for good while new ones work', async () => {
    const { socket, replies } = await rawConnection();
    proxy.stallOpenConnections();
    proxy.heal();
    expect(await roundTrip(socket, replies, 400)).toBeUndefined();
    const fresh = await rawConnection();
    expect(await roundTrip(fresh.socket, fresh.replies, 1_000)).toBeDefined();
  });

  it('resets open connections', async () => {
    const { closed } = await rawConnection();
    proxy.resetAll();
    expect(await closed).toMatch(/ECONNRESET|closed/);
    expect(proxy.stats.resets).toBe(1);
  });

  it('loses a reply after the request ran on the server', async () => {
    const key = `${uniqueNamespace('proxy')}:counter`;
    const { socket, replies, closed } = await rawConnection();
    proxy.loseReplies(1_000);
    socket.write(`INCR ${key}\r\n`);
    expect(await closed).toMatch(/ECONNRESET|closed/);
    expect(replies).toEqual([]);
    direct = connectTestRedis();
    expect(await direct.get(key)).toBe('1');
    expect(proxy.stats.lostReplies).toBe(1);
    await direct.del(key);
  });
});
