import type { RedisClient } from './redis-connection';

/** A command written after a request's XADDs: `[name, ...args]`, as ioredis `call()` takes it. */
export type PipelineCommand = [name: string, ...args: string[]];

/** An ioredis pipeline of the Producer's connection. */
export type Pipeline = ReturnType<RedisClient['pipeline']>;

/**
 * One Producer call on its way to Redis: its XADDs (payloads already encoded) followed by a few
 * other commands, the replies collected so far, and how to settle the caller's promise.
 */
export class WriteRequest {
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
    readonly trailing: readonly PipelineCommand[],
    /** On the monotonic clock (`performance.now()`). */
    readonly deadline: number,
    /** The Producer method and stream, for the timeout error only. */
    readonly method: string,
    readonly stream: string,
    readonly resolve: (replies: unknown[]) => void,
    readonly reject: (error: Error) => void,
    /** Fields after `payload` in every entry (field, value, ...): the trace context, or none. */
    readonly extraFields?: readonly string[],
  ) {
    this.size = encodedPayloads.length + trailing.length;
    this.replies = new Array<unknown>(this.size);
    this.missing = this.size;
  }

  addCommand(pipeline: Pipeline, index: number): void {
    if (index < this.encodedPayloads.length) {
      if (this.extraFields) {
        pipeline.xadd(this.streamKey, '*', 'payload', this.encodedPayloads[index], ...this.extraFields);
      } else {
        pipeline.xadd(this.streamKey, '*', 'payload', this.encodedPayloads[index]);
      }
    } else {
      const [name, ...args] = this.trailing[index - this.encodedPayloads.length];
      pipeline.call(name, ...args);
    }
  }
}
