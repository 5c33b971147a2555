import { Backoff } from './backoff';
import { ConsumerDeadLettering, resolveDeadLetterAfterAttempts } from './consumer-dead-lettering';
import { DeadLetters } from './dead-letters';
import { RedstreamConfigError } from './errors';
import { asError, FailureReporter } from './failure-reporter';
import type { ConsumerHandler, ConsumerOptions } from './interfaces/consumer-options.interface';
import type { RedstreamMessage, RedstreamPayload } from './interfaces/redstream-message.interface';
import { positiveMs } from './option-validation';
import { callHandler } from './handler-call';
import { parseStreamEntries, RawStreamEntry, RejectedEntry } from './message-parser';
import type { RedstreamContext } from './redstream-context';
import { consumerLockName, validateConsumerName, validateStreamName } from './redstream-keys';
import { streamNameOf, streamParserOf } from './stream-definition';
import { idRange } from './redstream-log-record';
import { StreamWorker } from './stream-worker';
import { NO_TELEMETRY, WorkerTelemetry } from './telemetry/redstream-telemetry';

/**
 * Reads a stream in batches after its committed offset and hands each batch to a handler;
 * the offset (the batch's last id) is committed only after the handler resolved. One
 * instance per (stream, name) is active, any others are hot standbys.
 *
 * Delivery is at least once, in stream order: a failed batch is retried after a backoff and
 * nothing is skipped, except entries whose `payload` cannot be parsed, which are logged and
 * passed over so that one bad entry cannot stall the stream. With `deadLetter: { afterAttempts }`
 * a batch that failed that many times is bisected: the entries that fail on their own go to
 * `<stream>.dead` and the rest is handled in order (see ConsumerDeadLettering).
 */
export class Consumer<TPayload extends object = RedstreamPayload> extends StreamWorker {
  readonly stream: string;
  private readonly handler: ConsumerHandler<TPayload>;
  private readonly handlerTimeoutMs?: number;
  private readonly handlerBackoff: Backoff;
  private readonly handlerFailures: FailureReporter;
  private readonly deadLettering?: { afterAttempts: number; run: ConsumerDeadLettering };
  private readonly parse?: (payload: unknown) => TPayload;
  private readonly telemetry: WorkerTelemetry;

  constructor(context: RedstreamContext, options: ConsumerOptions<TPayload>) {
    const stream = validateStreamName(streamNameOf(options.stream));
    const name = validateConsumerName(options.name);
    const label = `Consumer ${stream}:${name}`;
    // Validated before the worker is built, which creates the Redis connections.
    if (typeof options.handler !== 'function') throw new RedstreamConfigError(`${label}: handler must be a function`);
    if (options.handlerTimeoutMs !== undefined) positiveMs(options.handlerTimeoutMs, `${label}: handlerTimeoutMs`);
    const afterAttempts = resolveDeadLetterAfterAttempts(options.deadLetter, label);
    super(context, stream, name, consumerLockName(stream, name), options, label, {
      worker: 'consumer',
      stream,
      consumer: name,
    });
    this.readsAheadOnArrival = true;
    this.stream = stream;
    this.handler = options.handler;
    this.parse = streamParserOf(options.stream);
    this.handlerTimeoutMs = options.handlerTimeoutMs;
    this.handlerBackoff = new Backoff({ initialMs: this.options.backoffInitialMs, maxMs: this.options.backoffMaxMs });
    this.handlerFailures = this.failureReporter();
    this.telemetry = (context.telemetry ?? NO_TELEMETRY).worker('consumer', stream, name, this);
    if (afterAttempts !== undefined) {
      const run = new ConsumerDeadLettering(
        new DeadLetters(this.client, context.keys),
        stream,
        name,
        this.lock,
        this.logger,
        label,
      );
      this.deadLettering = { afterAttempts, run };
    }
  }

  /** The offset committed in Redis (`null` before the first commit). */
  committedOffset(): Promise<string | null> {
    return this.client.get(this.offsetKey);
  }

  protected override async onActivated(): Promise<void> {
    // The trimmer reads this set: a consumer counts for trimming from its first start on,
    // even in another service, until it is forgotten explicitly.
    await this.client.sadd(this.context.keys.consumerRegistry(this.stream), this.name);
  }

  protected processBatch(entries: RawStreamEntry[]): Promise<void> {
    return this.telemetry.processBatch(entries, () => this.handleBatch(entries));
  }

  private async handleBatch(entries: RawStreamEntry[]): Promise<void> {
    const { messages, rejected } = parseStreamEntries<TPayload>(this.stream, entries, this.parse);
    if (rejected.length > 0) {
      for (const entry of rejected) {
        this.logger.warn(`${this.label}: skipping entry ${entry.id}: ${entry.reason}`, { ids: entry.id });
      }
      this.telemetry.rejected(rejected.length);
      this.emit('rejected', rejected);
    }
    if (messages.length > 0) await this.handleUntilSuccess(messages);
    // Once the batch is handled, right before its commit and fenced like it: while the handler
    // keeps failing nothing is written, so an instance taking the batch over starts clean.
    if (this.deadLettering && rejected.length > 0) await this.deadLetterInvalid(this.deadLettering.run, rejected);
    await this.commit(entries[entries.length - 1][0], messages.length);
  }

  private async handleUntilSuccess(messages: RedstreamMessage<TPayload>[]): Promise<void> {
    for (let failures = 0; ;) {
      this.throwIfStopping();
      await this.ensureLease();
      try {
        await this.callHandler(messages);
        this.handlerBackoff.reset();
        this.handlerFailures.succeeded();
        return;
      } catch (error) {
        failures++;
        if (this.deadLettering && failures >= this.deadLettering.afterAttempts) {
          if (await this.isolatePoison(messages, error, failures)) return;
        }
        const retryInMs = this.handlerBackoff.next();
        this.handlerFailures.failed(
          error,
          (attempt, reason) =>
            `handler failed on ${messages.length} messages ${messages[0].id}..${messages[messages.length - 1].id} ` +
            `(attempt ${attempt}): ${reason}; retrying the same batch in ${retryInMs} ms`,
          { ids: idRange(messages) },
        );
        this.emit('failed', asError(error), retryInMs);
        await this.sleep(retryInMs);
      }
    }
  }

  /** True when the batch's healthy entries were handled and its lone failures dead-lettered. */
  private async isolatePoison(
    messages: RedstreamMessage<TPayload>[],
    error: unknown,
    failures: number,
  ): Promise<boolean> {
    const result = await this.deadLettering!.run.isolate(
      messages,
      error,
      failures,
      (part) => this.callHandler(part),
      async () => this.lock.isHeld() || this.lock.refresh(),
      this.abortSignal,
    );
    this.throwIfStopping();
    if (result.outcome === 'outage') return false;
    this.handlerBackoff.reset();
    this.handlerFailures.succeeded();
    this.telemetry.deadLettered(result.deadLettered.length);
    if (result.deadLettered.length > 0) this.emit('deadLettered', result.deadLettered);
    return true;
  }

  /** Moves the rejected entries that failed the stream's `parse` to `<stream>.dead`. */
  private async deadLetterInvalid(run: ConsumerDeadLettering, rejected: RejectedEntry[]): Promise<void> {
    const invalid = rejected.filter((entry) => entry.validationError !== undefined);
    if (invalid.length === 0) return;
    const deadLettered = await run.deadLetterInvalid(invalid);
    if (deadLettered.length > 0) this.emit('deadLettered', deadLettered);
  }

  private callHandler(messages: RedstreamMessage<TPayload>[]): Promise<unknown> {
    return callHandler(this.handler, messages, this.handlerTimeoutMs, this.telemetry);
  }
}
