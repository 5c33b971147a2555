import {
  RedstreamConfigError,
  RedstreamConnectionError,
  RedstreamReplicationError,
  RedstreamTimeoutError,
} from './errors';
import type { ProducerOptions, QueueOptions } from './interfaces/producer-options.interface';
import type { RedstreamPayload } from './interfaces/redstream-message.interface';
import type { RedisClient } from './redis-connection';
import type { RedstreamContext } from './redstream-context';
import { validateStreamName } from './redstream-keys';

type Command = [name: string, ...args: string[]];

interface PendingCommand {
  command: Command;
  resolve: (reply: unknown) => void;
  reject: (error: Error) => void;
}

interface StreamKeys {
  stream: string;
  delay: string;
}

/**
 * Writes messages: delay messages before a database transaction commits, immediate
 * messages after. Every payload becomes one entry with one field, `payload`, holding JSON,
 * exactly as the gem writes it.
 *
 * Writes from all callers within one tick of the event loop go out together as pipelines of
 * at most `sliceSize` commands, so many concurrent `queue()` calls cost a few round trips,
 * not one each; large arrays are sliced the same way.
 */
export class Producer {
  private readonly client: RedisClient;
  private readonly sliceSize: number;
  private readonly commandTimeoutMs: number;
  /**
   * Whether immediate messages delete the delay messages written for the same change
   * (`ProducerOptions.deleteDelayMessagesOnQueue`); read by integrations that write both halves.
   */
  readonly deleteDelayMessagesOnQueue: boolean;
  private readonly wait?: { replicas: number; timeoutMs: number };
  private readonly keyCache = new Map<string, StreamKeys>();
  private pending: PendingCommand[] = [];
  private flushScheduled = false;

  constructor(
    private readonly context: RedstreamContext,
    options: ProducerOptions = {},
  ) {
    this.client = context.connections.client();
    this.sliceSize = positive(options.sliceSize ?? 250, 'Producer: sliceSize');
    this.commandTimeoutMs = positive(options.commandTimeoutMs ?? 5_000, 'Producer: commandTimeoutMs');
    this.deleteDelayMessagesOnQueue = options.deleteDelayMessagesOnQueue ?? false;
    if (options.wait) {
      positive(options.wait.replicas, 'Producer: wait.replicas');
      positive(options.wait.timeoutMs, 'Producer: wait.timeoutMs');
      this.wait = { ...options.wait };
    }
  }

  /**
   * Writes messages for immediate retrieval. With `delayMessageIds`, deletes those delay
   * messages in the same round trip. Resolves with the new entry ids.
   */
  async queue(
    stream: string,
    payloads: RedstreamPayload | readonly RedstreamPayload[],
    options: QueueOptions = {},
  ): Promise<string[]> {
    const keys = this.keysOf(stream);
    const commands = toArray(payloads).map((payload) => xadd(keys.stream, payload));
    const ids = options.delayMessageIds ?? [];
    for (let i = 0; i < ids.length; i += this.sliceSize) {
      commands.push(['xdel', keys.delay, ...ids.slice(i, i + this.sliceSize)]);
    }
    const replies = await this.execute(commands, 'queue', stream);
    return replies.slice(0, replies.length - Math.ceil(ids.length / this.sliceSize)) as string[];
  }

  /** Writes delay messages (re-queued by the Delayer after its delay); resolves with their ids. */
  async delay(stream: string, payloads: RedstreamPayload | readonly RedstreamPayload[]): Promise<string[]> {
    const keys = this.keysOf(stream);
    const commands = toArray(payloads).map((payload) => xadd(keys.delay, payload));
    if (this.wait) commands.push(['wait', String(this.wait.replicas), String(this.wait.timeoutMs)]);
    const replies = await this.execute(commands, 'delay', stream);
    if (this.wait) {
      const acknowledged = Number(replies.pop());
      if (acknowledged < this.wait.replicas) {
        throw new RedstreamReplicationError(this.wait.replicas, acknowledged, this.wait.timeoutMs);
      }
    }
    return replies as string[];
  }

  /**
   * Wraps a write that bypasses per-record hooks (a bulk UPDATE): writes delay messages for
   * `payloads`, awaits `write()`, then writes the immediate messages. If `write()` throws,
   * no immediate message is written, the delay messages stay (the Delayer will heal
   * whatever part of the write did commit) and the error propagates.
   */
  async bulk<T>(stream: string, payloads: readonly RedstreamPayload[], write: () => T | Promise<T>): Promise<T> {
    const delayIds = await this.delay(stream, payloads);
    const result = await write();
    await this.queue(stream, payloads, this.deleteDelayMessagesOnQueue ? { delayMessageIds: delayIds } : {});
    return result;
  }

  private keysOf(stream: string): StreamKeys {
    let keys = this.keyCache.get(stream);
    if (!keys) {
      validateStreamName(stream);
      keys = { stream: this.context.keys.stream(stream), delay: this.context.keys.delayStream(stream) };
      this.keyCache.set(stream, keys);
    }
    return keys;
  }

  private execute(commands: Command[], what: string, stream: string): Promise<unknown[]> {
    if (commands.length === 0) return Promise.resolve([]);
    const replies = Promise.all(
      commands.map(
        (command) => new Promise<unknown>((resolve, reject) => this.pending.push({ command, resolve, reject })),
      ),
    );
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedstreamTimeoutError(
              `Producer.${what}(${stream}) did not complete within ${this.commandTimeoutMs} ms (is Redis reachable?); ` +
                'the messages may or may not have been written',
            ),
          ),
        this.commandTimeoutMs,
      );
    });
    return Promise.race([replies, timeout]).finally(() => clearTimeout(timer));
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (let start = 0; start < pending.length; start += this.sliceSize) {
      const slice = pending.slice(start, start + this.sliceSize);
      this.client
        .pipeline(slice.map((entry) => entry.command))
        .exec()
        .then(
          (results) => {
            slice.forEach((entry, index) => {
              const [error, reply] = results?.[index] ?? [new Error('no reply'), undefined];
              if (error) entry.reject(wrap(error));
              else entry.resolve(reply);
            });
          },
          (error: Error) => slice.forEach((entry) => entry.reject(wrap(error))),
        );
    }
  }
}

function xadd(streamKey: string, payload: RedstreamPayload): Command {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new RedstreamConfigError(
      `A message payload must be a JSON object such as { id: 1 }, got ${JSON.stringify(payload)}`,
    );
  }
  return ['xadd', streamKey, '*', 'payload', JSON.stringify(payload)];
}

function toArray<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function positive(value: number, what: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RedstreamConfigError(`${what} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function wrap(error: Error): Error {
  return error instanceof RedstreamConnectionError
    ? error
    : new RedstreamConnectionError(`Redis rejected a write: ${error.message}`, { cause: error });
}
