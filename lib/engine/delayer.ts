import { performance } from 'node:perf_hooks';
import { durationToMs } from './duration';
import { RedstreamLockLostError } from './errors';
import type { DelayerOptions } from './interfaces/delayer-options.interface';
import { parseStreamEntries, payloadFieldOf, RawStreamEntry } from './message-parser';
import type { RedstreamContext } from './redstream-context';
import { consumerLockName, DELAYER_CONSUMER_NAME, delayStreamName, validateStreamName } from './redstream-keys';
import { scripts } from './scripts';
import { serverTimeMs } from './server-clock';
import { streamNameOf } from './stream-definition';
import { streamIdTimestamp } from './stream-id';
import { StreamWorker } from './stream-worker';
import { NO_TELEMETRY, WorkerTelemetry } from './telemetry/redstream-telemetry';

/**
 * Re-queues a stream's delay messages once they are `delay` old. Delay messages are written
 * before a database transaction commits; if the process dies before the immediate message
 * is written, the re-queued delay message still brings the change to every consumer.
 *
 * As in the gem, it runs as consumer `delayer` of `<stream>.delay`, with that consumer's
 * offset and lock. Age is measured on the clock (TIME) of the Redis node that holds the delay
 * stream and stamped its ids, so clock skew between hosts can neither release messages early
 * nor hold them back. Re-queueing, deleting from the delay stream and committing happen in
 * one Lua script: a crash can neither lose nor duplicate a message.
 */
export class Delayer extends StreamWorker {
  readonly stream: string;
  readonly delayMs: number;
  private readonly targetKey: string;
  private readonly onDue?: DelayerOptions['onDue'];
  private readonly telemetry: WorkerTelemetry;

  constructor(context: RedstreamContext, options: DelayerOptions) {
    const stream = validateStreamName(streamNameOf(options.stream));
    const label = `Delayer ${stream}`;
    const readStream = delayStreamName(stream);
    // Validated before the worker is built, which creates the Redis connections.
    const delayMs = durationToMs(options.delay, `${label}: delay`);
    super(
      context,
      readStream,
      DELAYER_CONSUMER_NAME,
      consumerLockName(readStream, DELAYER_CONSUMER_NAME),
      options,
      label,
      { worker: 'delayer', stream, consumer: DELAYER_CONSUMER_NAME },
    );
    this.stream = stream;
    this.delayMs = delayMs;
    this.targetKey = context.keys.stream(stream);
    this.onDue = options.onDue;
    // Producers delete delay messages ahead of the Delayer by design (`delayMessageIds`).
    this.reportsForeignDeletions = false;
    this.telemetry = (context.telemetry ?? NO_TELEMETRY).worker('delayer', stream, DELAYER_CONSUMER_NAME, this);
  }

  protected async processBatch(entries: RawStreamEntry[]): Promise<void> {
    const dueBefore = (await serverTimeMs(this.client, this.streamKey)) - this.delayMs;
    let dueCount = 0;
    while (dueCount < entries.length && streamIdTimestamp(entries[dueCount][0]) <= dueBefore) dueCount++;

    if (dueCount > 0) await this.deliver(entries.slice(0, dueCount));
    if (dueCount < entries.length) {
      // Sleep until the next message is due, but wake at least once per lock ttl to check
      // the lock (the keep-alive refreshes it meanwhile), and at once to hand a shard over.
      const waitMs = streamIdTimestamp(entries[dueCount][0]) - dueBefore + 1;
      await this.sleepUnlessHandingOver(Math.min(waitMs, this.options.lockTtlMs));
    }
  }

  private async deliver(due: RawStreamEntry[]): Promise<void> {
    if (this.onDue) {
      const { messages } = parseStreamEntries(this.stream, due);
      try {
        await this.onDue(messages);
      } catch (error) {
        this.logger.error(
          `${this.label}: onDue failed (${(error as Error)?.message ?? String(error)}); re-queueing anyway`,
          { ids: `${due[0][0]}..${due[due.length - 1][0]}` },
        );
      }
    }
    this.throwIfStopping();
    for (const [id, fields] of due) {
      if (payloadFieldOf(fields) === undefined)
        this.logger.warn(`${this.label}: dropping delay entry ${id}: it has no "payload" field`, { ids: id });
    }
    // The script reads the entries again by id range: no payload travels back.
    const args = [this.lock.ownerId, this.options.lockTtlMs, due[0][0], due[due.length - 1][0], due.length];
    const sentAt = performance.now();
    const reconnects = this.context.connections.reconnectCount(this.client);
    const queued = await scripts.deliverDelayed.run(
      this.client,
      [this.targetKey, this.streamKey, this.lock.key, this.offsetKey],
      args,
    );
    if (queued === -1) {
      this.lock.markLost();
      throw new RedstreamLockLostError(
        this.refusedWriteMessage(
          `${this.label} lost its lock`,
          reconnects,
          'nothing re-queued',
          'the batch may not have been re-queued, or a first copy may have re-queued it',
        ),
      );
    }
    this.lock.confirmedAt(sentAt);
    this.telemetry.requeued(Number(queued));
    this.logger.debug?.(`${this.label}: re-queued ${String(queued)} delay messages`);
    this.advance(due[due.length - 1][0], Number(queued));
  }
}
