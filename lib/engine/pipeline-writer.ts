import { RedstreamConnectionError, RedstreamTimeoutError } from './errors';
import type { RedisClient } from './redis-connection';
import { WriteDeadlines } from './write-deadlines';
import { Pipeline, PipelineCommand, WriteRequest } from './write-request';

type PipelineResults = [error: Error | null, reply: unknown][] | null;

/**
 * Pipelines on the wire at once. More than one keeps Redis busy while the next pipeline is
 * encoded; a few are as fast as many (measured in bench/), and a bounded number keeps a huge
 * array from turning into hundreds of thousands of live ioredis commands, whose garbage
 * collection used to take half of the time.
 */
const PIPELINES_IN_FLIGHT = 4;

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

/** The `count` commands of `request`, from `start`, that went into one pipeline. */
interface PipelineSegment {
  request: WriteRequest;
  start: number;
  count: number;
}

/**
 * The Producer's write path: batches the commands of all calls made within one tick of the
 * event loop into pipelines of at most `sliceSize` commands, keeps a few pipelines in flight
 * while later calls queue up in call order, hands each call its own replies, and rejects a
 * call that has not completed within `commandTimeoutMs`.
 */
export class PipelineWriter {
  /** The only lane on a single node; undefined on a Cluster, which uses `laneByKey`. */
  private readonly singleLane?: WriteLane;
  private readonly laneByKey = new Map<string, WriteLane>();
  private readonly deadlines = new WriteDeadlines((request) => this.fail(request, this.timeoutError(request)));

  constructor(
    private readonly client: RedisClient,
    private readonly sliceSize: number,
    private readonly commandTimeoutMs: number,
  ) {
    if ((client as { isCluster?: boolean }).isCluster !== true) this.singleLane = new WriteLane();
  }

  /**
   * Sends XADDs of `encodedPayloads` to `streamKey`, then the `trailing` commands (which must
   * touch the same slot on a Cluster); resolves with all replies in that order. `method` and
   * `stream` name the call in a timeout error. `extraFields` (field, value, ...) follow
   * `payload` in every entry: the trace context, when a span is sampled.
   */
  write(
    streamKey: string,
    encodedPayloads: readonly string[],
    trailing: readonly PipelineCommand[],
    method: string,
    stream: string,
    extraFields?: readonly string[],
  ): Promise<unknown[]> {
    if (encodedPayloads.length + trailing.length === 0) return Promise.resolve([]);
    return new Promise<unknown[]>((resolve, reject) => {
      const request = new WriteRequest(
        streamKey,
        encodedPayloads,
        trailing,
        performance.now() + this.commandTimeoutMs,
        method,
        stream,
        resolve,
        reject,
        extraFields,
      );
      const lane = this.laneFor(streamKey);
      lane.unsent.push(request);
      this.deadlines.watch(request);
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
    const pipeline: Pipeline = this.client.pipeline();
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
        this.deadlines.settle(request);
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
    this.deadlines.settle(request);
    request.reject(error);
  }

  private timeoutError(request: WriteRequest): RedstreamTimeoutError {
    return new RedstreamTimeoutError(
      `Producer.${request.method}(${request.stream}) did not complete within ${this.commandTimeoutMs} ms ` +
        '(is Redis reachable?); the messages may or may not have been written',
    );
  }
}

function wrap(error: Error): Error {
  return error instanceof RedstreamConnectionError
    ? error
    : new RedstreamConnectionError(`Redis rejected a write: ${error.message}`, { cause: error });
}
