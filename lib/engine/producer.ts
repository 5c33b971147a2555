import { RedstreamReplicationError } from './errors';
import type { ProducerOptions, QueueOptions } from './interfaces/producer-options.interface';
import { positiveInteger, positiveMs } from './option-validation';
import { encodePayloads } from './payload-encoder';
import { PipelineWriter } from './pipeline-writer';
import type { RedstreamContext } from './redstream-context';
import { delayStreamName, validateStreamName } from './redstream-keys';
import { StreamDefinition, StreamPayload, StreamRef, streamNameOf, validatePayloads } from './stream-definition';
import { NO_TELEMETRY, RedstreamTelemetry } from './telemetry/redstream-telemetry';
import type { PipelineCommand } from './write-request';

interface StreamKeys {
  stream: string;
  delay: string;
  /** `<stream>.delay`, the destination of delay messages in metrics and spans. */
  delayName: string;
}

/** One payload of a definition's type, or an array of them. */
type PayloadsOf<TStream> = StreamPayload<TStream> | readonly StreamPayload<TStream>[];

const NO_COMMANDS: readonly PipelineCommand[] = [];

/**
 * Writes messages: delay messages before a database transaction commits, immediate
 * messages after. Every payload becomes one entry with one field, `payload`, holding JSON,
 * exactly as the gem writes it. A payload must be a JSON object whose every value survives
 * JSON (no `undefined`, BigInt, NaN, function, circular reference, or nesting beyond 100
 * levels; the README's payload rules); a bad one rejects the call with RedstreamConfigError
 * naming its field, and nothing of the call is written. Dates become ISO strings.
 *
 * Writes from all callers within one tick of the event loop go out together as pipelines of
 * at most `sliceSize` commands, so many concurrent `queue()` calls cost a few round trips,
 * not one each; large arrays are sliced the same way. A few pipelines are in flight at once,
 * and calls made meanwhile queue up, in call order, for the next ones. On a Redis Cluster a
 * pipeline may only touch one slot, so there the calls are batched per key written (a
 * `queue()` that deletes delay messages needs a hash-tagged stream name, as its XDEL goes along).
 *
 * Every method takes the stream by name or as a {@link StreamDefinition} (`defineStream`):
 * with a definition the payloads must be of its type, and with its `parse` each payload is
 * checked before anything is written (a failure rejects the call with RedstreamValidationError).
 */
export class Producer {
  private readonly writer: PipelineWriter;
  private readonly sliceSize: number;
  private readonly deleteDelayMessagesOnQueue: boolean;
  private readonly wait?: { replicas: number; timeoutMs: number };
  private readonly keyCache = new Map<string, StreamKeys>();
  private readonly telemetry: RedstreamTelemetry;

  constructor(
    private readonly context: RedstreamContext,
    options: ProducerOptions = {},
  ) {
    this.sliceSize = positiveInteger(options.sliceSize ?? 250, 'Producer: sliceSize');
    const commandTimeoutMs = positiveMs(options.commandTimeoutMs ?? 5_000, 'Producer: commandTimeoutMs');
    this.deleteDelayMessagesOnQueue = options.deleteDelayMessagesOnQueue ?? false;
    if (options.wait) {
      positiveInteger(options.wait.replicas, 'Producer: wait.replicas');
      positiveMs(options.wait.timeoutMs, 'Producer: wait.timeoutMs');
      this.wait = { ...options.wait };
    }
    this.telemetry = context.telemetry ?? NO_TELEMETRY;
    // Last: the options are valid before a connection is created for them.
    this.writer = new PipelineWriter(context.connections.producerClient(), this.sliceSize, commandTimeoutMs);
  }

  /**
   * Writes messages for immediate retrieval; resolves with the new entry ids. With
   * `delayMessageIds`, deletes those delay messages in the same round trip, whatever
   * `deleteDelayMessagesOnQueue` says (see {@link queueAfterDelay} for the call that follows it).
   */
  queue<TStream extends StreamDefinition<object>>(
    stream: TStream,
    payloads: PayloadsOf<TStream>,
    options?: QueueOptions,
  ): Promise<string[]>;
  queue(stream: string, payloads: object | readonly object[], options?: QueueOptions): Promise<string[]>;
  queue(streamRef: StreamRef<object>, payloads: object | readonly object[], options?: QueueOptions): Promise<string[]> {
    try {
      const stream = this.checked(streamRef, payloads, 'queue');
      const keys = this.keysOf(stream);
      return this.writeImmediate(stream, keys, encodePayloads(payloads, 'queue', stream), options?.delayMessageIds);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The second half of a change written in two: `delay()` before the database commit, this
   * after it. Writes the immediate messages and, if the Producer was created with
   * `deleteDelayMessagesOnQueue: true`, deletes the delay messages `delayMessageIds` (what
   * `delay()` resolved with) in the same round trip; otherwise leaves them for the Delayer's
   * second delivery. Resolves with the new entry ids. `bulk()` and the TypeORM integration
   * write their immediate messages with it.
   */
  queueAfterDelay<TStream extends StreamDefinition<object>>(
    stream: TStream,
    payloads: PayloadsOf<TStream>,
    delayMessageIds: readonly string[],
  ): Promise<string[]>;
  queueAfterDelay(
    stream: string,
    payloads: object | readonly object[],
    delayMessageIds: readonly string[],
  ): Promise<string[]>;
  queueAfterDelay(
    streamRef: StreamRef<object>,
    payloads: object | readonly object[],
    delayMessageIds: readonly string[],
  ): Promise<string[]> {
    try {
      const stream = this.checked(streamRef, payloads, 'queueAfterDelay');
      return this.writeAfterDelay(stream, payloads, delayMessageIds, 'queueAfterDelay');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes delay messages (re-queued by the Delayer after its delay); resolves with their ids. */
  delay<TStream extends StreamDefinition<object>>(stream: TStream, payloads: PayloadsOf<TStream>): Promise<string[]>;
  delay(stream: string, payloads: object | readonly object[]): Promise<string[]>;
  delay(streamRef: StreamRef<object>, payloads: object | readonly object[]): Promise<string[]> {
    try {
      const stream = this.checked(streamRef, payloads, 'delay');
      const keys = this.keysOf(stream);
      return this.writeDelay(stream, keys, encodePayloads(payloads, 'delay', stream));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Wraps a write that bypasses per-record hooks (a bulk UPDATE): writes delay messages for
   * `payloads`, awaits `write()`, then writes the immediate messages as `queueAfterDelay()`
   * does (the payloads are encoded again, as the gem does, so changes `write()` made to them
   * show). If `write()` throws, no immediate message is written, the delay messages stay
   * (the Delayer will heal whatever part of the write did commit) and the error propagates.
   */
  bulk<TStream extends StreamDefinition<object>, T>(
    stream: TStream,
    payloads: readonly StreamPayload<TStream>[],
    write: () => T | Promise<T>,
  ): Promise<T>;
  bulk<T>(stream: string, payloads: readonly object[], write: () => T | Promise<T>): Promise<T>;
  async bulk<T>(streamRef: StreamRef<object>, payloads: readonly object[], write: () => T | Promise<T>): Promise<T> {
    const stream = this.checked(streamRef, payloads, 'bulk');
    const keys = this.keysOf(stream);
    const delayIds = await this.writeDelay(stream, keys, encodePayloads(payloads, 'bulk', stream));
    const result = await write();
    await this.writeAfterDelay(stream, payloads, delayIds, 'bulk');
    return result;
  }

  private writeAfterDelay(
    stream: string,
    payloads: object | readonly object[],
    delayMessageIds: readonly string[],
    method: string,
  ): Promise<string[]> {
    const keys = this.keysOf(stream);
    const encoded = encodePayloads(payloads, method, stream);
    return this.writeImmediate(stream, keys, encoded, this.deleteDelayMessagesOnQueue ? delayMessageIds : undefined);
  }

  private writeImmediate(
    stream: string,
    keys: StreamKeys,
    encoded: readonly string[],
    deletedDelayIds: readonly string[] | undefined,
  ): Promise<string[]> {
    if (!deletedDelayIds || deletedDelayIds.length === 0) {
      return this.telemetry.send(
        stream,
        encoded.length,
        (traceFields) =>
          this.writer.write(keys.stream, encoded, NO_COMMANDS, 'queue', stream, traceFields) as Promise<string[]>,
      );
    }
    const deletes: PipelineCommand[] = [];
    for (let i = 0; i < deletedDelayIds.length; i += this.sliceSize) {
      deletes.push(['xdel', keys.delay, ...deletedDelayIds.slice(i, i + this.sliceSize)]);
    }
    return this.telemetry.send(stream, encoded.length, (traceFields) =>
      this.writer
        .write(keys.stream, encoded, deletes, 'queue', stream, traceFields)
        .then((replies) => replies.slice(0, encoded.length) as string[]),
    );
  }

  private async writeDelay(stream: string, keys: StreamKeys, encoded: readonly string[]): Promise<string[]> {
    const wait = this.wait;
    if (!wait) {
      return this.telemetry.send(
        keys.delayName,
        encoded.length,
        (traceFields) =>
          this.writer.write(keys.delay, encoded, NO_COMMANDS, 'delay', stream, traceFields) as Promise<string[]>,
      );
    }
    const waitCommand: PipelineCommand = ['wait', String(wait.replicas), String(wait.timeoutMs)];
    const replies = await this.telemetry.send(keys.delayName, encoded.length, (traceFields) =>
      this.writer.write(keys.delay, encoded, [waitCommand], 'delay', stream, traceFields),
    );
    const acknowledged = Number(replies.pop());
    if (acknowledged < wait.replicas) {
      throw new RedstreamReplicationError(wait.replicas, acknowledged, wait.timeoutMs);
    }
    return replies as string[];
  }

  /** The stream's name; with a definition's `parse`, throws before anything is written if a payload fails it. */
  private checked(stream: StreamRef<object>, payloads: object | readonly object[], method: string): string {
    // Not a definition: keysOf() validates the name.
    if (typeof stream !== 'object' || stream === null) return stream as string;
    const name = streamNameOf(stream);
    if (stream.parse) validatePayloads(stream.parse, payloads, `Producer.${method}(${name})`, name);
    return name;
  }

  private keysOf(stream: string): StreamKeys {
    let keys = this.keyCache.get(stream);
    if (!keys) {
      validateStreamName(stream);
      keys = {
        stream: this.context.keys.stream(stream),
        delay: this.context.keys.delayStream(stream),
        delayName: delayStreamName(stream),
      };
      this.keyCache.set(stream, keys);
    }
    return keys;
  }
}
