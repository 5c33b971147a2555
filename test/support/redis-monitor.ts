import { connect, Socket } from 'node:net';
import Redis from 'ioredis';
import { waitFor } from './test-redis';

/** One command as MONITOR reports it: its arguments and who sent it (`ip:port`, or `lua`). */
export interface MonitoredCommand {
  readonly args: string[];
  readonly source: string;
}

/**
 * Watches every command a Redis server runs, over a socket of its own.
 *
 * ioredis's `monitor()` switches its connection to monitoring mode only in a promise callback
 * after MONITOR's `+OK`; when the first monitored command arrives in the same TCP chunk as that
 * `+OK`, its parser sees a reply to no command and fails with "Command queue state error". On a
 * busy server (the suites share one) that happens, so tests read MONITOR from a plain socket.
 */
export class RedisMonitor {
  readonly commands: MonitoredCommand[] = [];
  private readonly listeners: ((command: MonitoredCommand) => void)[] = [];
  private pending = '';
  private authConfirmed = false;

  private constructor(private readonly socket: Socket) {}

  /** Opens a MONITOR on the server `client` talks to; resolves once Redis confirms it. */
  static open(client: Redis): Promise<RedisMonitor> {
    const { host, port, username, password } = client.options;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host ?? '127.0.0.1', port: port ?? 6379 });
      const monitor = new RedisMonitor(socket);
      let confirmed = false;
      // Byte for byte, so that escaped and raw bytes of one argument decode together as UTF-8.
      socket.setEncoding('latin1');
      socket.once('error', reject);
      socket.on('data', (chunk: string) => {
        monitor.pending += chunk;
        let end: number;
        while ((end = monitor.pending.indexOf('\r\n')) >= 0) {
          const line = monitor.pending.slice(0, end);
          monitor.pending = monitor.pending.slice(end + 2);
          if (line.startsWith('-')) {
            socket.destroy();
            reject(new Error(`MONITOR refused: ${line.slice(1)}`));
          } else if (line === '+OK' && !confirmed) {
            // AUTH's +OK, then MONITOR's.
            if (!password || monitor.authConfirmed) {
              confirmed = true;
              resolve(monitor);
            } else {
              monitor.authConfirmed = true;
            }
          } else if (line.startsWith('+') && confirmed) {
            monitor.record(line.slice(1));
          }
        }
      });
      if (password) socket.write(command(username ? ['AUTH', username, password] : ['AUTH', password]));
      socket.write(command(['MONITOR']));
    });
  }

  /** Calls `listener` with each command from now on. */
  onCommand(listener: (command: MonitoredCommand) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Resolves once MONITOR has shown every command the server ran before this call: it sends a
   * marker command through `client` and waits for it, as MONITOR reports commands in the order
   * Redis ran them.
   */
  async caughtUp(client: Redis, marker: string): Promise<void> {
    await client.exists(marker);
    await waitFor(() => this.commands.some(({ args }) => args.includes(marker)));
  }

  close(): void {
    this.socket.destroy();
  }

  private record(line: string): void {
    // <time> [<db> <source>] "arg" "arg" ...
    const open = line.indexOf('[');
    const close = line.indexOf(']', open);
    const source = line.slice(open + 1, close).split(' ')[1] ?? '';
    const monitored = { args: parseQuotedArgs(line.slice(close + 1)), source };
    this.commands.push(monitored);
    for (const listener of this.listeners) listener(monitored);
  }
}

function command(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };

/** Undoes Redis's quoting of MONITOR arguments (sdscatrepr): `"a\"b" "\x00"`. */
function parseQuotedArgs(text: string): string[] {
  const args: string[] = [];
  let index = text.indexOf('"');
  while (index >= 0 && index < text.length) {
    let arg = '';
    index++;
    while (index < text.length && text[index] !== '"') {
      if (text[index] === '\\') {
        const next = text[index + 1];
        if (next === 'x') {
          arg += String.fromCharCode(parseInt(text.slice(index + 2, index + 4), 16));
          index += 4;
        } else {
          arg += ESCAPES[next] ?? next;
          index += 2;
        }
      } else {
        arg += text[index++];
      }
    }
    args.push(Buffer.from(arg, 'latin1').toString('utf8'));
    index = text.indexOf('"', index + 1);
  }
  return args;
}
