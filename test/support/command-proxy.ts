import { createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a test's Redis that sees the commands clients send: it counts
 * request chunks (socket writes, i.e. round trips of a pipelining client) and can silence
 * the one connection that sends a given command, the way a dead peer goes silent (no FIN,
 * no RST), which no Redis command can simulate. For whole-network faults see tcp-proxy.ts.
 */
export interface CommandProxy {
  readonly port: number;
  readonly url: string;
  /** Chunks received from clients since the last `resetCounters()`. */
  readonly requestChunks: number;
  /** Connections accepted since the proxy started. */
  readonly connections: number;
  resetCounters(): void;
  /**
   * The next connection that sends bytes matching `pattern` goes silent from then on: nothing
   * it sends reaches Redis and nothing comes back, but its socket stays open. Resolves when
   * that happened. One-shot: later connections pass normally.
   */
  silenceNext(pattern: RegExp): Promise<void>;
  /**
   * The next request matching `pattern` reaches Redis, but its connection is reset as soon
   * as the reply starts coming back, which is lost: the client cannot know whether the
   * command ran. Resolves when that happened. One-shot.
   */
  loseReplyOfNext(pattern: RegExp): Promise<void>;
  close(): Promise<void>;
}

interface ProxiedPair {
  client: Socket;
  upstream: Socket;
  silenced: boolean;
  /** Set when the reply to a request just forwarded must be lost. */
  loseReply?: () => void;
}

export async function startCommandProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CommandProxy> {
  const pairs = new Set<ProxiedPair>();
  let requestChunks = 0;
  let connections = 0;
  let armed: { pattern: RegExp; done: () => void } | undefined;
  let armedReplyLoss: { pattern: RegExp; done: () => void } | undefined;

  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect({ port: targetPort, host: targetHost });
    const pair: ProxiedPair = { client, upstream, silenced: false };
    pairs.add(pair);
    const closeBoth = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      requestChunks++;
      if (!pair.silenced && armed && armed.pattern.test(chunk.toString('latin1'))) {
        pair.silenced = true;
        armed.done();
        armed = undefined;
      }
      if (armedReplyLoss && armedReplyLoss.pattern.test(chunk.toString('latin1'))) {
        pair.loseReply = armedReplyLoss.done;
        armedReplyLoss = undefined;
      }
      if (!pair.silenced) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.loseReply) {
        const done = pair.loseReply;
        pair.loseReply = undefined;
        client.resetAndDestroy();
        upstream.destroy();
        done();
        return;
      }
      if (!pair.silenced) client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', closeBoth);
      socket.on('close', closeBoth);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get requestChunks() {
      return requestChunks;
    },
    get connections() {
      return connections;
    },
    resetCounters: () => {
      requestChunks = 0;
    },
    silenceNext: (pattern) => new Promise<void>((resolve) => (armed = { pattern, done: resolve })),
    loseReplyOfNext: (pattern) => new Promise<void>((resolve) => (armedReplyLoss = { pattern, done: resolve })),
    close: async () => {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
