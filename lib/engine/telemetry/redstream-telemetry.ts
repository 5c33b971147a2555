import { performance } from 'node:perf_hooks';
import type {
  BatchObservableCallback,
  BatchObservableResult,
  Counter,
  Histogram,
  Link,
  Observable,
  ObservableGauge,
  Span,
  Tracer,
} from '@opentelemetry/api';
import type { RawStreamEntry } from '../message-parser';
import type { StreamLagReader } from '../stream-lag';
import { streamIdTimestamp } from '../stream-id';
import { withTimeout } from '../with-timeout';
import { loadOpenTelemetryApi, OpenTelemetryApiModule } from './opentelemetry-api';
import {
  ATTRIBUTES,
  DURATION_BUCKETS_S,
  GAUGE_LAG_MAX_COUNT,
  GAUGE_READ_TIMEOUT_MS,
  INSTRUMENTATION_SCOPE,
  LATENCY_BUCKETS_S,
  MAX_SPAN_LINKS,
  MESSAGING_SYSTEM,
  METRICS,
} from './telemetry.constants';
import {
  formatTraceparent,
  parseTraceparent,
  traceFieldsOf,
  TRACEPARENT_FIELD,
  TRACESTATE_FIELD,
} from './trace-context';

/** What a worker is, as the `redstream.worker.kind` attribute says it. */
export type WorkerKind = 'consumer' | 'group-consumer' | 'delayer' | 'trimmer';

/** The state of a worker that the gauges read. */
interface ObservedWorker {
  readonly isRunning: boolean;
  readonly isActive: boolean;
}

interface Instruments {
  sent: Counter;
  consumed: Counter;
  failed: Counter;
  rejected: Counter;
  requeued: Counter;
  trimmed: Counter;
  deadLettered: Counter;
  processDuration: Histogram;
  latency: Histogram;
  gauges: {
    active: ObservableGauge;
    lag: ObservableGauge;
    lagAge: ObservableGauge;
    pending: ObservableGauge;
    delayBacklog: ObservableGauge;
    delayBacklogAge: ObservableGauge;
  };
}

/** Everything the enabled paths need; absent when `@opentelemetry/api` is not installed. */
interface Enabled {
  api: OpenTelemetryApiModule;
  tracer: Tracer;
  instruments: Instruments;
}

/**
 * Each RedstreamTelemetry's enabled state, kept out of the classes so that their declarations
 * (which the engine's public types reach) name no `@opentelemetry/api` type: an application
 * without the package type-checks too.
 */
const enabledOf = new WeakMap<RedstreamTelemetry, Enabled>();

/** The attributes of a metric point: ours are all strings. */
type StringAttributes = Readonly<Record<string, string>>;

/**
 * Metrics and spans of one Redstream instance, through `@opentelemetry/api` when it is
 * installed (with no SDK registered its meters and tracers are no-ops); without it every
 * method returns at once. Instruments are created once, attributes once per stream or
 * worker, and everything is recorded per call or batch, never per entry.
 *
 * The meter and tracer are taken from the global providers when the Redstream is created:
 * register the OpenTelemetry SDK before that (as OpenTelemetry asks of every instrumentation).
 */
export class RedstreamTelemetry {
  private readonly sendAttributes = new Map<string, StringAttributes>();
  private readonly workers = new Set<WorkerTelemetry>();
  private readonly observe?: BatchObservableCallback;
  private observables?: Observable[];

  /**
   * @param lagReader the reader the gauges use (the Redstream's shared command connection);
   *   undefined registers no gauges.
   * @param enabled false for an instance that records nothing (contexts built without a Redstream).
   */
  constructor(
    private readonly lagReader?: () => StreamLagReader,
    enabled = true,
  ) {
    const api = enabled ? loadOpenTelemetryApi() : undefined;
    if (!api) return;
    const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
    const counter = (name: string, description: string) =>
      meter.createCounter(name, { description, unit: '{message}' });
    const gauge = (name: string, description: string, unit: string) =>
      meter.createObservableGauge(name, { description, unit });
    const instruments: Instruments = {
      sent: counter(METRICS.sent, 'Messages the Producer wrote (or failed to write, with error.type)'),
      consumed: counter(METRICS.consumed, 'Messages a handler call resolved for'),
      failed: counter(METRICS.failed, 'Messages in handler calls that threw or timed out (each attempt)'),
      rejected: counter(METRICS.rejected, 'Entries skipped because their payload could not be parsed'),
      requeued: counter(METRICS.requeued, 'Delay messages the Delayer re-queued onto the stream'),
      trimmed: counter(METRICS.trimmed, 'Entries the Trimmer deleted'),
      deadLettered: counter(METRICS.deadLettered, 'Entries moved to <stream>.dead'),
      processDuration: meter.createHistogram(METRICS.processDuration, {
        description: 'Duration of one handler call on a batch',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
      }),
      latency: meter.createHistogram(METRICS.latency, {
        description: 'Time from writing the oldest message of a handled batch (its id) to the handler resolving',
        unit: 's',
        advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
      }),
      gauges: {
        active: gauge(METRICS.active, '1 while this instance works, 0 while it stands by (running workers)', '1'),
        lag: gauge(METRICS.lag, 'Entries not handled yet by an active consumer (a group: not delivered)', '{message}'),
        lagAge: gauge(METRICS.lagAge, 'Age of the oldest entry not handled yet', 's'),
        pending: gauge(METRICS.pending, 'Entries delivered to a group but not acknowledged', '{message}'),
        delayBacklog: gauge(METRICS.delayBacklog, 'Delay messages not re-queued yet', '{message}'),
        delayBacklogAge: gauge(METRICS.delayBacklogAge, 'Age of the oldest delay message', 's'),
      },
    };
    enabledOf.set(this, { api, tracer: api.trace.getTracer(INSTRUMENTATION_SCOPE), instruments });
    if (lagReader) {
      this.observe = (result) => this.observeWorkers(result);
      this.observables = Object.values(instruments.gauges);
      meter.addBatchObservableCallback(this.observe, this.observables);
    }
  }

  /**
   * Runs a Producer write of `count` messages to `destination` (a stream or `<stream>.delay`)
   * in a `send` span, and counts it when it settles. `write` gets the fields to add to each
   * entry: the span's W3C trace context, or undefined when no span is sampled or recording.
   */
  send<T>(destination: string, count: number, write: (traceFields?: string[]) => Promise<T>): Promise<T> {
    const enabled = enabledOf.get(this);
    if (!enabled) return write(undefined);
    const { api, tracer, instruments } = enabled;
    let attributes = this.sendAttributes.get(destination);
    if (!attributes) {
      attributes = {
        [ATTRIBUTES.system]: MESSAGING_SYSTEM,
        [ATTRIBUTES.destination]: destination,
        [ATTRIBUTES.operationName]: 'send',
      };
      this.sendAttributes.set(destination, attributes);
    }
    const span = tracer.startSpan(`send ${destination}`, { kind: api.SpanKind.PRODUCER, attributes });
    // Set on the span only when it records: nothing is built for a no-op tracer.
    if (span.isRecording()) {
      span.setAttribute(ATTRIBUTES.operationType, 'send');
      span.setAttribute(ATTRIBUTES.batchCount, count);
    }
    const spanContext = span.spanContext();
    let traceFields: string[] | undefined;
    if (api.isSpanContextValid(spanContext)) {
      traceFields = [
        TRACEPARENT_FIELD,
        formatTraceparent(spanContext.traceId, spanContext.spanId, spanContext.traceFlags),
      ];
      const state = spanContext.traceState?.serialize();
      if (state) traceFields.push(TRACESTATE_FIELD, state);
    }
    let written: Promise<T>;
    try {
      written = write(traceFields);
    } catch (error) {
      written = Promise.reject(error as Error);
    }
    written.then(
      () => {
        instruments.sent.add(count, attributes);
        span.end();
      },
      (error: unknown) => {
        instruments.sent.add(count, { ...attributes, [ATTRIBUTES.errorType]: errorType(error) });
        endWithError(api, span, error);
      },
    );
    return written;
  }

  /** The telemetry of one worker; its gauges are observed while it runs. */
  worker(kind: WorkerKind, stream: string, name: string, target: ObservedWorker): WorkerTelemetry {
    const worker = new WorkerTelemetry(this, kind, stream, name, target);
    if (enabledOf.has(this)) this.workers.add(worker);
    return worker;
  }

  /** Stops observing the gauges (Redstream.close()). */
  close(): void {
    const enabled = enabledOf.get(this);
    if (enabled && this.observe && this.observables) {
      enabled.api.metrics.getMeter(INSTRUMENTATION_SCOPE).removeBatchObservableCallback(this.observe, this.observables);
      this.observables = undefined;
    }
    this.workers.clear();
  }

  /**
   * The gauges' one callback: whether each running worker is active, and for the active ones
   * the lag they are responsible for, read from Redis with a bounded count, all reads at once,
   * each given up after GAUGE_READ_TIMEOUT_MS. A group's lag is read once per process.
   */
  private async observeWorkers(result: BatchObservableResult): Promise<void> {
    const { gauges } = enabledOf.get(this)!.instruments;
    const reader = this.lagReader!();
    const reads: Promise<void>[] = [];
    const groups = new Set<string>();
    for (const worker of this.workers) {
      if (!worker.target.isRunning) continue;
      const attributes = worker.attributes;
      const active = worker.target.isActive;
      result.observe(gauges.active, active ? 1 : 0, attributes);
      if (!active) continue;
      const { stream, name } = worker;
      if (worker.kind === 'consumer') {
        reads.push(
          bounded(reader.consumerLag(stream, name, { maxCount: GAUGE_LAG_MAX_COUNT }), (lag) => {
            result.observe(gauges.lag, lag.entries, attributes);
            result.observe(gauges.lagAge, lag.oldestAgeMs / 1000, attributes);
          }),
        );
      } else if (worker.kind === 'group-consumer') {
        const key = `${stream}\n${name}`;
        if (groups.has(key)) continue;
        groups.add(key);
        reads.push(
          bounded(reader.groupLag(stream, name, { maxCount: GAUGE_LAG_MAX_COUNT }), (lag) => {
            if (!lag) return;
            result.observe(gauges.lag, lag.entries, attributes);
            result.observe(gauges.lagAge, lag.oldestAgeMs / 1000, attributes);
            result.observe(gauges.pending, lag.pending, attributes);
          }),
        );
      } else if (worker.kind === 'delayer') {
        reads.push(
          bounded(reader.delayBacklog(stream), (backlog) => {
            result.observe(gauges.delayBacklog, backlog.entries, attributes);
            result.observe(gauges.delayBacklogAge, backlog.oldestAgeMs / 1000, attributes);
          }),
        );
      }
    }
    await Promise.all(reads);
  }
}

/**
 * One worker's metrics and batch spans, with its attributes built once:
 * `messaging.destination.name` (the stream), `messaging.consumer.group.name` (the consumer or
 * group name; `delayer` for the Delayer) and `redstream.worker.kind`.
 */
export class WorkerTelemetry {
  /** @internal */
  readonly attributes: StringAttributes;
  private readonly processAttributes: StringAttributes;
  private readonly enabled?: Enabled;

  /** @internal */
  constructor(
    owner: RedstreamTelemetry,
    readonly kind: WorkerKind,
    readonly stream: string,
    readonly name: string,
    /** @internal */
    readonly target: ObservedWorker,
  ) {
    this.attributes = {
      [ATTRIBUTES.system]: MESSAGING_SYSTEM,
      [ATTRIBUTES.destination]: stream,
      ...(kind === 'trimmer' ? {} : { [ATTRIBUTES.consumerGroup]: name }),
      [ATTRIBUTES.workerKind]: kind,
    };
    this.enabled = enabledOf.get(owner);
    this.processAttributes = { ...this.attributes, [ATTRIBUTES.operationName]: 'process' };
  }

  /**
   * Runs `work` (parsing, handling and committing a batch) in a `process <stream>` span that
   * links to the producers' contexts found in the entries' `traceparent` fields, and makes it
   * the active span, so the handler's own spans become its children.
   */
  processBatch<T>(entries: readonly RawStreamEntry[], work: () => Promise<T>): Promise<T> {
    const enabled = this.enabled;
    if (!enabled) return work();
    const { api, tracer } = enabled;
    const span = tracer.startSpan(`process ${this.stream}`, {
      kind: api.SpanKind.CONSUMER,
      attributes: this.processAttributes,
      links: producerLinks(api, entries),
    });
    if (span.isRecording()) {
      span.setAttribute(ATTRIBUTES.operationType, 'process');
      span.setAttribute(ATTRIBUTES.batchCount, entries.length);
    }
    return api.context.with(api.trace.setSpan(api.context.active(), span), () => {
      let done: Promise<T>;
      try {
        done = work();
      } catch (error) {
        done = Promise.reject(error as Error);
      }
      done.then(
        () => span.end(),
        (error: unknown) => endWithError(api, span, error),
      );
      return done;
    });
  }

  /**
   * Times a handler call on `messages` (oldest first): its duration, then the messages as
   * consumed and the oldest one's latency, or as failed with `error.type`. Returns `call`.
   */
  handlerCall<T>(messages: readonly { id: string }[], call: Promise<T>): Promise<T> {
    const enabled = this.enabled;
    if (!enabled) return call;
    const { instruments } = enabled;
    const startedAt = performance.now();
    call.then(
      () => {
        instruments.processDuration.record((performance.now() - startedAt) / 1000, this.processAttributes);
        instruments.consumed.add(messages.length, this.processAttributes);
        const writtenAt = streamIdTimestamp(messages[0].id);
        instruments.latency.record(Math.max(0, Date.now() - writtenAt) / 1000, this.attributes);
      },
      (error: unknown) => {
        const attributes = { ...this.processAttributes, [ATTRIBUTES.errorType]: errorType(error) };
        instruments.processDuration.record((performance.now() - startedAt) / 1000, attributes);
        instruments.failed.add(messages.length, attributes);
      },
    );
    return call;
  }

  rejected(count: number): void {
    if (count > 0) this.enabled?.instruments.rejected.add(count, this.attributes);
  }

  deadLettered(count: number): void {
    if (count > 0) this.enabled?.instruments.deadLettered.add(count, this.attributes);
  }

  requeued(count: number): void {
    if (count > 0) this.enabled?.instruments.requeued.add(count, this.attributes);
  }

  trimmed(count: number): void {
    if (count > 0) this.enabled?.instruments.trimmed.add(count, this.attributes);
  }
}

/** Links to the distinct producer contexts of a batch, at most MAX_SPAN_LINKS; none for plain entries. */
function producerLinks(api: OpenTelemetryApiModule, entries: readonly RawStreamEntry[]): Link[] | undefined {
  let links: Link[] | undefined;
  let seen: Set<string> | undefined;
  for (let i = 0; i < entries.length; i++) {
    const fields = traceFieldsOf(entries[i][1] ?? []);
    if (!fields) continue;
    seen ??= new Set();
    if (seen.has(fields.traceparent)) continue;
    seen.add(fields.traceparent);
    const parsed = parseTraceparent(fields.traceparent);
    if (!parsed) continue;
    const traceState =
      fields.tracestate && typeof api.createTraceState === 'function'
        ? api.createTraceState(fields.tracestate)
        : undefined;
    (links ??= []).push({ context: { ...parsed, isRemote: true, traceState } });
    if (links.length === MAX_SPAN_LINKS) break;
  }
  return links;
}

function bounded<T>(read: Promise<T>, observe: (value: T) => void): Promise<void> {
  const observed = read.then(observe, () => undefined);
  return withTimeout(observed, GAUGE_READ_TIMEOUT_MS, () => undefined);
}

function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return '_OTHER';
}

function endWithError(api: OpenTelemetryApiModule, span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.setAttribute(ATTRIBUTES.errorType, errorType(error));
  span.end();
}

/** Records nothing: for engine components built on a context without telemetry. */
export const NO_TELEMETRY = new RedstreamTelemetry(undefined, false);
