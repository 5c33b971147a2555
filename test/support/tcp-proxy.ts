import { createServer, Server, Socket } from 'node:net';

type Direction = 'request' | 'reply';

/** One direction of one proxied connection: chunks wait here for their latency and for a held network. */
interface Lane {
  readonly from: Socket;
  readonly to: Socket;
  readonly direction: Direction;
  queue: { chunk: Buffer; dueAt: number }[];
  timer?: NodeJS.Timeout;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly lanes: Lane[];
  /** Stalled links never forward another byte: a dead route that the TCP stack cannot notice. */
  stalled: boolean;
}

/** Counters of what the proxy did, for reports and assertions. */
export interface TcpProxyStats {
  connections: number;
  resets: number;
  lostReplies: number;
}

/**
 * A TCP proxy between clients and Redis that injects network faults: latency, a blackhole
 * (connections stay open, no byte moves until `heal()`), stalled connections (dead for good,
 * while new ones work), resets, and replies lost after their request reached the server.
 */
export class TcpProxy {
  readonly stats: TcpProxyStats = { connections: 0, resets: 0, lostReplies: 0 };
  private readonly links = new Set<Link>();
  private latencyMs = 0;
  private held = false;
  private loseRepliesUntil = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on `listenPort` (0: a free port) of 127.0.0.1 and forwards to `targetPort`. */
  static start(targetPort: number, listenPort = 0, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : listenPort;
        const proxy = new TcpProxy(server, port, { host: targetHost, port: targetPort });
        server.on('connection', (client) => proxy.accept(client));
        resolve(proxy);
      });
    });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get openConnections(): number {
    return this.links.size;
  }

  /** Delays every chunk (both directions) by `ms` from now on; 0 removes the latency. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Holds every byte of every connection, old and new, until `heal()`: a partition. */
  blackhole(): void {
    this.held = true;
  }

  /** The connections open now never forward another byte; later connections work normally. */
  stallOpenConnections(): void {
    for (const link of this.links) link.stalled = true;
  }

  /** For `windowMs`, forwards requests but drops each reply and resets its connection. */
  loseReplies(windowMs: number): void {
    this.loseRepliesUntil = Date.now() + windowMs;
  }

  /** Resets (RST) every open connection. */
  resetAll(): void {
    for (const link of [...this.links]) this.reset(link);
  }

  /** Ends the blackhole, the latency and reply loss; held bytes flow on. Stalled connections stay dead. */
  heal(): void {
    this.held = false;
    this.latencyMs = 0;
    this.loseRepliesUntil = 0;
    for (const link of this.links) for (const lane of link.lanes) this.pump(lane);
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    const upstream = new Socket();
    const link: Link = { client, upstream, lanes: [], stalled: false };
    link.lanes.push(this.lane(link, client, upstream, 'request'), this.lane(link, upstream, client, 'reply'));
    this.links.add(link);
    const close = (): void => {
      if (!this.links.delete(link)) return;
      for (const lane of link.lanes) clearTimeout(lane.timer);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', close);
      socket.on('close', close);
    }
    upstream.connect(this.target.port, this.target.host);
  }

  private lane(link: Link, from: Socket, to: Socket, direction: Direction): Lane {
    const lane: Lane = { from, to, direction, queue: [] };
    from.on('data', (chunk: Buffer) => {
      if (link.stalled) return;
      if (direction === 'reply' && Date.now() < this.loseRepliesUntil) {
        this.stats.lostReplies++;
        this.reset(link);
        return;
      }
      lane.queue.push({ chunk, dueAt: Date.now() + this.latencyMs });
      this.pump(lane);
    });
    return lane;
  }

  // Forwards due chunks in order; schedules itself for the next one that is not due yet.
  private pump(lane: Lane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    while (!this.held && lane.queue.length > 0) {
      const waitMs = lane.queue[0].dueAt - Date.now();
      if (waitMs > 0) {
        lane.timer = setTimeout(() => this.pump(lane), waitMs);
        return;
      }
      const { chunk } = lane.queue.shift()!;
      if (!lane.to.destroyed) lane.to.write(chunk);
    }
  }

  private reset(link: Link): void {
    if (!this.links.has(link)) return;
    this.stats.resets++;
    link.client.resetAndDestroy();
    link.upstream.destroy();
  }
}
