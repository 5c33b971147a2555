import {
  RedstreamConfigError,
  RedstreamConnectionError,
  RedstreamReplicationError,
  RedstreamTimeoutError,
} from './errors';
import { positiveInteger, positiveMs } from './option-validation';
import type { ProducerOptions, QueueOptions } from './interfaces/producer-options.interface';
import type { RedisClient } from './redis-connection';
import type { RedstreamContext } from './redstream-context';
import { validateStreamName } from './redstream-keys';

type Command = [name: string, ...args: string[]];

type Pipeline = ReturnType<RedisClient['pipeline']>;

type PipelineResults = [error: Error | null, reply: unknown][] | null;

interface StreamKeys {
  stream: string;
  delay: string;
}

/**
 * Pipelines on the wire at once. More than one keeps Redis busy while the next pipeline is
 * encoded; a few are as fast as many (measured in bench/), and a bounded number keeps a huge
 * array from turning into hundreds of thousands of live ioredis commands, whose garbage
 * collection used to take half of the time.
 */
const PIPELINES_IN_FLIGHT = 4;

/** One Producer call: its XADDs (payloads already encoded) followed by a few other commands. */
class WriteRequest {
  readonly size: number;
  readonly replies: unknown[];
  /** How many of the commands went into pipelines so far. */
  sent = 0;
  /** How many replies are still missing. */
  missing: number;
  settled = false;

  constructor(
    readonly streamKey: string,
    readonly encodedPayloads: readonly string[],
    readonly trailing: readonly Command[],
    /** On the monotonic clock (`performance.now()`). */
    readonly deadline: number,
    readonly description: string,
    readonly resolve: (replies: unknown[]) => void,
    readonly reject: (error: Error) => void,
  ) {
    this.size = encodedPayloads.length + trailing.length;
    this.replies = new Array<unknown>(this.size);
    this.missing = this.size;
  }

  addCommand(pipeline: Pipeline, index: number): void {
    if (index < this.encodedPayloads.length) {
      pipeline.xadd(this.streamKey, '*', 'payload', this.encodedPayloads[index]);
    } else {
      const [name, ...args] = this.trailing[index - this.encodedPayloads.length];
      pipeline.call(name, ...args);
    }
  }
}

/**
 * Requests whose commands may share pipelines, oldest first from `unsentHead` on, and the
 * pipelines in flight for them. On a single node all requests form one lane; on a Cluster
 * each key written has a lane of its own, as a pipeline must not span slots.
 */
class WriteLane {
  unsent: WriteRequest[] = [];
  unsentHead = 0;
  pipelinesInFlight = 0;
  sendScheduled = false;
}

/** The commands `count` commands of `request`, from `start`, that went into one pipeline. */
interface PipelineSegment {
  request: WriteRequest;
  start: number;
  count: number;
}

/**
 * Writes messages: delay messages before a database transaction commits, immediate
 * messages after. Every payload becomes one entry with one field, `payload`, holding JSON,
 * exactly as the gem writes it.
 *
 * Writes from all callers within one tick of the event loop go out together as pipelines of
 * at most `sliceSize` commands, so many concurrent `queue()` calls cost a few round trips,
 * not one each; large arrays are sliced the same way. A few pipelines are in flight at once,
 * and calls made meanwhile queue up, in call order, for the next ones. On a Redis Cluster a
 * pipeline may only touch one slot, so there the calls are batched per key written (a
 * `queue()` with `delayMessageIds` needs a hash-tagged stream name, as its XDEL goes along).
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
  /** The only lane on a single node; undefined on a Cluster, which uses `laneByKey`. */
  private readonly singleLane?: WriteLane;
  private readonly laneByKey = new Map<string, WriteLane>();
  /**
   * Unsettled requests in call order (settled ones are dropped lazily), from `watchedHead` on:
   * one timer at the oldest deadline bounds them all, instead of a timer per call.
   */
  private watched: WriteRequest[] = [];
  private watchedHead = 0;
  private unsettled = 0;
  private timeoutTimer?: NodeJS.Timeout;

  constructor(
    private readonly context: RedstreamContext,
    options: ProducerOptions = {},
  ) {
    this.sliceSize = positiveInteger(options.sliceSize ?? 250, 'Producer: sliceSize');
    this.commandTimeoutMs = positiveMs(options.commandTimeoutMs ?? 5_000, 'Producer: commandTimeoutMs');
    this.deleteDelayMessagesOnQueue = options.deleteDelayMessagesOnQueue ?? false;
    if (options.wait) {
      positiveInteger(options.wait.replicas, 'Producer: wait.replicas');
      positiveMs(options.wait.timeoutMs, 'Producer: wait.timeoutMs');
      this.wait = { ...options.wait };
    }
    // Last: the options are valid before a connection is created for them.
    this.client = context.connections.producerClient();
    if ((this.client as { isCluster?: boolean }).isCluster !== true) this.singleLane = new WriteLane();
  }

  /**
   * Writes messages for immediate retrieval. With `delayMessageIds`, deletes those delay
   * messages in the same round trip. Resolves with the new entry ids.
   */
  queue(stream: string, payloads: object | readonly object[], options?: QueueOptions): Promise<string[]> {
    try {
      const keys = this.keysOf(stream);
      const encoded = encodeAll(payloads);
      const ids = options?.delayMessageIds;
      if (!ids || ids.length === 0) return this.execute<string>(keys.stream, encoded, NO_COMMANDS, 'queue', stream);
      const deletes: Command[] = [];
      for (let i = 0; i < ids.length; i += this.sliceSize) {
        deletes.push(['xdel', keys.delay, ...ids.slice(i, i + this.sliceSize)]);
      }
      return this.execute<string>(keys.stream, encoded, deletes, 'queue', stream).then((replies) =>
        replies.slice(0, encoded.length),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes delay messages (re-queued by the Delayer after its delay); resolves with their ids. */
  async delay(stream: string, payloads: object | readonly object[]): Promise<string[]> {
    const keys = this.keysOf(stream);
    const encoded = encodeAll(payloads);
    const wait = this.wait;
    if (!wait) return this.execute<string>(keys.delay, encoded, NO_COMMANDS, 'delay', stream);
    const waitCommand: Command = ['wait', String(wait.replicas), String(wait.timeoutMs)];
    const replies = await this.execute(keys.delay, encoded, [waitCommand], 'delay', stream);
    const acknowledged = Number(replies.pop());
    if (acknowledged < wait.replicas) {
      throw new RedstreamReplicationError(wait.replicas, acknowledged, wait.timeoutMs);
    }
    return replies as string[];
  }

  /**
   * Wraps a write that bypasses per-record hooks (a bulk UPDATE): writes delay messages for
   * `payloads`, awaits `write()`, then writes the immediate messages. If `write()` throws,
   * no immediate message is written, the delay messages stay (the Delayer will heal
   * whatever part of the write did commit) and the error propagates.
   */
  async bulk<T>(stream: string, payloads: readonly object[], write: () => T | Promise<T>): Promise<T> {
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

  private execute<T = unknown>(
    streamKey: string,
    encodedPayloads: readonly string[],
    trailing: readonly Command[],
    what: string,
    stream: string,
  ): Promise<T[]> {
    if (encodedPayloads.length + trailing.length === 0) return Promise.resolve([]);
    return new Promise<T[]>((resolve, reject) => {
      const request = new WriteRequest(
        streamKey,
        encodedPayloads,
        trailing,
        performance.now() + this.commandTimeoutMs,
        `${what}(${stream})`,
        resolve as (replies: unknown[]) => void,
        reject,
      );
      const lane = this.laneFor(streamKey);
      lane.unsent.push(request);
      this.watch(request);
      if (!lane.sendScheduled && lane.pipelinesInFlight < PIPELINES_IN_FLIGHT) {
        // Not at once: the calls of this tick share the pipelines.
        lane.sendScheduled = true;
        process.nextTick(() => this.sendPipelines(lane));
      }
    });
  }

  private laneFor(streamKey: string): WriteLane {
    if (this.singleLane) return this.singleLane;
    let lane = this.laneByKey.get(streamKey);
    if (!lane) {
      lane = new WriteLane();
      this.laneByKey.set(streamKey, lane);
    }
    return lane;
  }

  private sendPipelines(lane: WriteLane): void {
    lane.sendScheduled = false;
    while (lane.pipelinesInFlight < PIPELINES_IN_FLIGHT && lane.unsentHead < lane.unsent.length) {
      this.sendPipeline(lane);
    }
    if (lane.unsentHead === lane.unsent.length) {
      lane.unsent = [];
      lane.unsentHead = 0;
    } else if (lane.unsentHead > 1_000 && lane.unsentHead * 2 > lane.unsent.length) {
      lane.unsent = lane.unsent.slice(lane.unsentHead);
      lane.unsentHead = 0;
    }
  }

  private sendPipeline(lane: WriteLane): void {
    const pipeline = this.client.pipeline();
    const segments: PipelineSegment[] = [];
    let room = this.sliceSize;
    while (room > 0 && lane.unsentHead < lane.unsent.length) {
      const request = lane.unsent[lane.unsentHead];
      const start = request.sent;
      const end = Math.min(request.size, start + room);
      for (let index = start; index < end; index++) request.addCommand(pipeline, index);
      request.sent = end;
      segments.push({ request, start, count: end - start });
      room -= end - start;
      if (end === request.size) lane.unsentHead++;
    }
    lane.pipelinesInFlight++;
    pipeline.exec().then(
      (results) => this.onReplies(lane, segments, results),
      (error: Error) => this.onPipelineFailed(lane, segments, error),
    );
  }

  private onReplies(lane: WriteLane, segments: PipelineSegment[], results: PipelineResults): void {
    let position = 0;
    for (const { request, start, count } of segments) {
      for (let index = start; index < start + count; index++) {
        const [error, reply] = results?.[position++] ?? [new Error('no reply'), undefined];
        if (request.settled) continue;
        if (error) this.fail(request, wrap(error));
        else request.replies[index] = reply;
      }
      request.missing -= count;
      if (request.missing === 0 && !request.settled) {
        this.settle(request);
        request.resolve(request.replies);
      }
    }
    this.pipelineDone(lane);
  }

  private onPipelineFailed(lane: WriteLane, segments: PipelineSegment[], error: Error): void {
    for (const { request } of segments) {
      if (!request.settled) this.fail(request, wrap(error));
    }
    this.pipelineDone(lane);
  }

  private pipelineDone(lane: WriteLane): void {
    lane.pipelinesInFlight--;
    this.sendPipelines(lane);
  }

  private fail(request: WriteRequest, error: Error): void {
    this.settle(request);
    request.reject(error);
  }

  private watch(request: WriteRequest): void {
    this.watched.push(request);
    this.unsettled++;
    if (!this.timeoutTimer) this.armTimeout(request.deadline);
  }

  private settle(request: WriteRequest): void {
    request.settled = true;
    this.unsettled--;
    if (this.unsettled === 0) {
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = undefined;
      this.watched = [];
      this.watchedHead = 0;
    }
  }

  private armTimeout(deadline: number): void {
    this.timeoutTimer = setTimeout(() => this.expireOverdue(), Math.max(1, deadline - performance.now()));
  }

  private expireOverdue(): void {
    this.timeoutTimer = undefined;
    const now = performance.now();
    while (this.watchedHead < this.watched.length) {
      const request = this.watched[this.watchedHead];
      if (!request.settled) {
        if (request.deadline > now) {
          this.armTimeout(request.deadline);
          break;
        }
        this.fail(
          request,
          new RedstreamTimeoutError(
            `Producer.${request.description} did not complete within ${this.commandTimeoutMs} ms (is Redis reachable?); ` +
              'the messages may or may not have been written',
          ),
        );
        // fail() may have reset the list when this was the last unsettled request.
        if (this.unsettled === 0) return;
      }
      this.watchedHead++;
    }
    if (this.watchedHead > 1_000 && this.watchedHead * 2 > this.watched.length) {
      this.watched = this.watched.slice(this.watchedHead);
      this.watchedHead = 0;
    }
  }
}

const NO_COMMANDS: readonly Command[] = [];

function encode(payload: object): string {
  const json = payload !== null && typeof payload === 'object' ? JSON.stringify(payload) : undefined;
  // 123 is '{': a Date, an array or a toJSON() returning a non-object would make every
  // consumer skip the entry as bad.
  if (json === undefined || json.charCodeAt(0) !== 123) {
    throw new RedstreamConfigError(
      `A message payload must be a JSON object such as { id: 1 }, got ${json ?? JSON.stringify(payload)}`,
    );
  }
  return json;
}

/** Validates every payload before anything is written: a bad one fails the whole call. */
function encodeAll(payloads: object | readonly object[]): string[] {
  if (!Array.isArray(payloads)) return [encode(payloads)];
  const encoded = new Array<string>(payloads.length);
  for (let i = 0; i < payloads.length; i++) encoded[i] = encode(payloads[i] as object);
  return encoded;
}

function wrap(error: Error): Error {
  return error instanceof RedstreamConnectionError
    ? error
    : new RedstreamConnectionError(`Redis rejected a write: ${error.message}`, { cause: error });
}
