import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPoint,
  Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import Redis from 'ioredis';
import { Delayer, GroupConsumer, Redstream, RedstreamMessage } from '../../lib/engine';
import { newestClientId, waitForBlockedClient } from '../support/blocked-clients';
import { waitFor } from '../support/test-redis';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';

type Attributes = Record<string, unknown>;

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [metricReader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
const contextManager = new AsyncLocalStorageContextManager();

/** Every data point of every metric, collected now. */
async function collect(): Promise<Map<string, DataPoint<unknown>[]>> {
  metricExporter.reset();
  await metricReader.forceFlush();
  const exported = metricExporter.getMetrics();
  const points = new Map<string, DataPoint<unknown>[]>();
  for (const scope of exported[exported.length - 1]?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) points.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[]);
  }
  return points;
}

/** The value of `name` at the point whose attributes include `attributes`; undefined if none. */
function valueOf(points: Map<string, DataPoint<unknown>[]>, name: string, attributes: Attributes): unknown {
  const matching = (points.get(name) ?? []).filter((point) =>
    Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
  );
  if (matching.length > 1) throw new Error(`${name}: ${matching.length} points match ${JSON.stringify(attributes)}`);
  return matching[0]?.value;
}

const spansNamed = (name: string): ReadableSpan[] =>
  spanExporter.getFinishedSpans().filter((span) => span.name === name);

describe('OpenTelemetry metrics and spans (real Redis, SDK with in-memory exporters)', () => {
  let namespace: string;
  let redstream: Redstream;
  /** Releases handlers a test holds up, so that afterEach can stop their workers even when it failed. */
  let release: () => void = () => undefined;
  let admin: Redis;
  const workers: { stop(): Promise<void> }[] = [];
  const key = (stream: string): string => `${namespace}:redstream:stream:${stream}`;
  const products = { 'messaging.system': 'redis', 'messaging.destination.name': 'products' };
  const indexer = { ...products, 'messaging.consumer.group.name': 'indexer', 'redstream.worker.kind': 'consumer' };

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    metrics.setGlobalMeterProvider(meterProvider);
    trace.setGlobalTracerProvider(tracerProvider);
  });
  afterAll(async () => {
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    metrics.disable();
    trace.disable();
    context.disable();
  });
  beforeEach(() => {
    // After the providers are registered, as OpenTelemetry asks of every instrumentation.
    ({ namespace, redstream, admin } = openTestRedstream());
    spanExporter.reset();
  });
  afterEach(() => {
    release();
    return closeTestRedstream({ redstream, admin }, workers);
  });

  const track = <T extends { stop(): Promise<void> }>(worker: T): T => {
    workers.push(worker);
    return worker;
  };

  it('counts and times produce, handle, fail, reject, re-queue, trim and dead-letter in one flow', async () => {
    const before = await collect();
    const producer = redstream.producer();
    const handled: RedstreamMessage[] = [];
    let poisonAttempts = 0;
    const consumer = track(
      redstream.consumer({
        stream: 'products',
        name: 'indexer',
        backoffInitialMs: 10,
        backoffMaxMs: 20,
        deadLetter: { afterAttempts: 2 },
        handler: async (messages) => {
          if (messages.some((message) => message.payload.id === 'poison')) {
            poisonAttempts++;
            throw new TypeError('cannot index a poison pill');
          }
          handled.push(...messages);
        },
      }),
    );
    const delayer = track(redstream.delayer({ stream: 'products', delay: 0 }));

    await producer.queue('products', [{ id: 1 }, { id: 2 }]);
    await admin.xadd(key('products'), '*', 'payload', 'not json');
    await producer.queue('products', { id: 'poison' });
    await producer.delay('products', { id: 3 });
    consumer.start();
    delayer.start();
    await waitFor(() => handled.some((message) => message.payload.id === 3), 20_000);
    await waitFor(async () => (await redstream.deadLetters('products')).deadLetters.length === 1, 20_000);
    await waitFor(() => consumer.currentOffset !== '0-0' && !consumer.isStalled);
    await waitFor(async () => (await redstream.lag('products', 'indexer')).entries === 0, 20_000);
    const trim = await redstream.trimmer({ stream: 'products' }).trimOnce();
    expect(trim.trimmed).toBe(5);

    const points = await collect();
    const grew = (name: string, attributes: Attributes): number =>
      Number(valueOf(points, name, attributes) ?? 0) - Number(valueOf(before, name, attributes) ?? 0);
    const sendProducts = { ...products, 'messaging.operation.name': 'send' };
    expect(grew('messaging.client.sent.messages', sendProducts)).toBe(3);
    expect(
      grew('messaging.client.sent.messages', { ...sendProducts, 'messaging.destination.name': 'products.delay' }),
    ).toBe(1);
    const processing = { ...indexer, 'messaging.operation.name': 'process' };
    expect(grew('messaging.client.consumed.messages', processing)).toBe(3);
    // The batch failed, then the poison pill failed alone until it was dead-lettered.
    expect(poisonAttempts).toBeGreaterThanOrEqual(2);
    expect(grew('redstream.messages.failed', { ...processing, 'error.type': 'TypeError' })).toBeGreaterThanOrEqual(
      poisonAttempts,
    );
    expect(grew('redstream.messages.rejected', indexer)).toBe(1);
    expect(grew('redstream.messages.dead_lettered', indexer)).toBe(1);
    const delayerAttributes = {
      ...products,
      'messaging.consumer.group.name': 'delayer',
      'redstream.worker.kind': 'delayer',
    };
    expect(grew('redstream.messages.requeued', delayerAttributes)).toBe(1);
    expect(grew('redstream.messages.trimmed', { ...products, 'redstream.worker.kind': 'trimmer' })).toBe(5);
    const trimmedPoint = (points.get('redstream.messages.trimmed') ?? []).find(
      (point) => point.attributes['messaging.destination.name'] === 'products',
    );
    expect(trimmedPoint?.attributes).not.toHaveProperty('messaging.consumer.group.name');

    const duration = valueOf(points, 'messaging.process.duration', { ...processing, 'error.type': undefined }) as
      Histogram | undefined;
    expect(duration?.count).toBeGreaterThanOrEqual(2);
    expect(duration!.sum).toBeGreaterThan(0);
    const failedDuration = valueOf(points, 'messaging.process.duration', {
      ...processing,
      'error.type': 'TypeError',
    }) as Histogram | undefined;
    expect(failedDuration?.count).toBeGreaterThanOrEqual(2);
    const latency = valueOf(points, 'redstream.process.latency', indexer) as Histogram | undefined;
    expect(latency?.count).toBe(duration!.count);
    // The delay message was handled after it went through the Delayer, the others within seconds.
    expect(latency!.max).toBeLessThan(60);
    expect(latency!.min).toBeGreaterThanOrEqual(0);

    expect(valueOf(points, 'redstream.worker.active', indexer)).toBe(1);
    expect(valueOf(points, 'redstream.consumer.lag', indexer)).toBe(0);
    expect(valueOf(points, 'redstream.consumer.lag.age', indexer)).toBe(0);
  }, 60_000);

  it('observes lag, pending entries, the delay backlog and which instances are active', async () => {
    const gate = new Promise<void>((resolve) => (release = resolve));
    const audit = { 'messaging.destination.name': 'audit', 'messaging.consumer.group.name': 'auditor' };
    const orders = { 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'billing' };
    const later = { 'messaging.destination.name': 'later', 'redstream.worker.kind': 'delayer' };
    const producer = redstream.producer();
    const queuedAt = Date.now();
    await producer.queue('audit', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await producer.delay('later', [{ id: 1 }, { id: 2 }]);

    let auditBatches = 0;
    const active = track(
      redstream.consumer({
        stream: 'audit',
        name: 'auditor',
        batchSize: 1,
        handler: async () => {
          auditBatches++;
          await gate;
        },
      }),
    );
    active.start();
    await waitFor(() => auditBatches === 1);
    const delayer: Delayer = track(redstream.delayer({ stream: 'later', delay: '1h' }));
    delayer.start();
    let orderBatches = 0;
    const group: GroupConsumer = track(
      redstream.groupConsumer({
        stream: 'orders',
        group: 'billing',
        handler: async () => {
          orderBatches++;
          await gate;
        },
      }),
    );
    group.start();
    await waitFor(() => delayer.isActive && group.isActive);
    await producer.queue('orders', [{ id: 1 }, { id: 2 }]);
    await waitFor(() => orderBatches === 1);

    const points = await collect();
    // Ages are in seconds, at most the time since the entries were written (50 ms for the clocks).
    const ageBound = (Date.now() - queuedAt) / 1000 + 0.05;
    expect(valueOf(points, 'redstream.worker.active', audit)).toBe(1);
    expect(valueOf(points, 'redstream.consumer.lag', audit)).toBe(3);
    const lagAge = valueOf(points, 'redstream.consumer.lag.age', audit);
    expect(lagAge).toBeGreaterThanOrEqual(0);
    expect(lagAge).toBeLessThanOrEqual(ageBound);
    expect(valueOf(points, 'redstream.delay.backlog', later)).toBe(2);
    const backlogAge = valueOf(points, 'redstream.delay.backlog.age', later);
    expect(backlogAge).toBeGreaterThanOrEqual(0);
    expect(backlogAge).toBeLessThanOrEqual(ageBound);
    expect(valueOf(points, 'redstream.worker.active', later)).toBe(1);
    // The first batch may hold one or both entries (the reader can wake between the two XADDs).
    const pending = Number(valueOf(points, 'redstream.group.pending', orders));
    expect(pending).toBeGreaterThanOrEqual(1);
    expect(pending + Number(valueOf(points, 'redstream.consumer.lag', orders))).toBe(2);
    expect(valueOf(points, 'redstream.worker.active', { ...orders, 'redstream.worker.kind': 'group-consumer' })).toBe(
      1,
    );
  }, 60_000);

  it('reports an instance on standby as 0 and, once it took over, as 1', async () => {
    const attributes = {
      'messaging.destination.name': 'ledger',
      'messaging.consumer.group.name': 'bookkeeper',
      'redstream.worker.kind': 'consumer',
    };
    // Another process holds the lock for two seconds.
    await admin.set(`${namespace}:redstream:lock:consumer:ledger:bookkeeper`, 'another-process', 'PX', 2_000);
    const newerThan = await newestClientId(admin);
    const consumer = track(redstream.consumer({ stream: 'ledger', name: 'bookkeeper', handler: async () => {} }));
    consumer.start();
    // Waiting on the lock's notify list: a hot standby.
    await waitForBlockedClient(admin, 'brpop', { newerThan });
    expect(valueOf(await collect(), 'redstream.worker.active', attributes)).toBe(0);
    expect(valueOf(await collect(), 'redstream.consumer.lag', attributes)).toBeUndefined();
    await waitFor(() => consumer.isActive, 20_000);
    expect(valueOf(await collect(), 'redstream.worker.active', attributes)).toBe(1);
  }, 60_000);

  it('carries the trace context from the producer to the consumer, through the Delayer too', async () => {
    const tracer = trace.getTracer('test');
    const handlerSpans: { traceId: string; spanId: string }[] = [];
    const consumer = track(
      redstream.consumer({
        stream: 'products',
        name: 'indexer',
        handler: async () => {
          const active = trace.getActiveSpan()!.spanContext();
          handlerSpans.push({ traceId: active.traceId, spanId: active.spanId });
        },
      }),
    );
    const delayer = track(redstream.delayer({ stream: 'products', delay: 0 }));
    const producer = redstream.producer();

    const request = tracer.startSpan('request');
    await context.with(trace.setSpan(context.active(), request), async () => {
      await producer.queue('products', [{ id: 1 }, { id: 2 }]);
      await producer.delay('products', { id: 3 });
    });
    request.end();

    const [sendImmediate] = spansNamed('send products');
    const [sendDelay] = spansNamed('send products.delay');
    expect(sendImmediate.kind).toBe(3); // PRODUCER
    expect(sendImmediate.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(sendImmediate.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(sendImmediate.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'products',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 2,
    });
    const traceparent = (span: ReadableSpan): string =>
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

    // The extra field, after `payload`, on every entry of the call; and on the delay message.
    const immediate = await admin.xrange(key('products'), '-', '+');
    expect(immediate.map(([, fields]) => fields)).toEqual([
      ['payload', '{"id":1}', 'traceparent', traceparent(sendImmediate)],
      ['payload', '{"id":2}', 'traceparent', traceparent(sendImmediate)],
    ]);
    const delayed = await admin.xrange(key('products.delay'), '-', '+');
    expect(delayed[0][1]).toEqual(['payload', '{"id":3}', 'traceparent', traceparent(sendDelay)]);

    delayer.start();
    await waitFor(async () => (await admin.xlen(key('products'))) === 3);
    // The Delayer kept the delay message's trace context when it re-queued it.
    const requeued = await admin.xrange(key('products'), '-', '+');
    expect(requeued[2][1]).toEqual(['payload', '{"id":3}', 'traceparent', traceparent(sendDelay)]);

    consumer.start();
    await waitFor(() => handlerSpans.length >= 1 && consumer.currentOffset === requeued[2][0]);
    const processSpans = spansNamed('process products');
    expect(processSpans.length).toBeGreaterThanOrEqual(1);
    const links = processSpans.flatMap((span) => span.links.map((link) => link.context));
    expect(links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          traceId: sendImmediate.spanContext().traceId,
          spanId: sendImmediate.spanContext().spanId,
        }),
        expect.objectContaining({ traceId: sendDelay.spanContext().traceId, spanId: sendDelay.spanContext().spanId }),
      ]),
    );
    // One link per producer context, not per entry.
    expect(links.filter((link) => link.spanId === sendImmediate.spanContext().spanId)).toHaveLength(1);
    for (const span of processSpans) {
      expect(span.kind).toBe(4); // CONSUMER
      expect(span.attributes).toMatchObject({
        'messaging.system': 'redis',
        'messaging.destination.name': 'products',
        'messaging.consumer.group.name': 'indexer',
        'messaging.operation.type': 'process',
      });
    }
    // The handler ran inside the batch span: its own spans become the batch span's children.
    expect(processSpans.map((span) => span.spanContext().spanId)).toEqual(
      expect.arrayContaining(handlerSpans.map((span) => span.spanId)),
    );
  }, 60_000);

  it('ignores a malformed traceparent: the entry is handled, the batch span has no link for it', async () => {
    const handled: unknown[] = [];
    await admin.xadd(key('notes'), '*', 'payload', '{"id":1}', 'traceparent', 'not-a-traceparent');
    await admin.xadd(
      key('notes'),
      '*',
      'payload',
      '{"id":2}',
      'traceparent',
      `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
    );
    const consumer = track(
      redstream.consumer({
        stream: 'notes',
        name: 'reader',
        handler: (messages) => {
          handled.push(...messages.map((message) => message.payload));
        },
      }),
    );
    consumer.start();
    await waitFor(() => handled.length === 2 && spansNamed('process notes').length > 0);
    expect(handled).toEqual([{ id: 1 }, { id: 2 }]);
    expect(spansNamed('process notes').flatMap((span) => span.links)).toEqual([]);
  }, 30_000);

  it('marks a failed write as an error on its span and in the counter', async () => {
    const producer = redstream.producer({ commandTimeoutMs: 200 });
    await admin.set(key('broken'), 'not a stream');
    await expect(producer.queue('broken', { id: 1 })).rejects.toThrow(/WRONGTYPE/);
    const [span] = spansNamed('send broken');
    expect(span.status.code).toBe(2); // ERROR
    const points = await collect();
    expect(
      valueOf(points, 'messaging.client.sent.messages', {
        'messaging.destination.name': 'broken',
        'error.type': 'RedstreamConnectionError',
      }),
    ).toBe(1);
  }, 30_000);
});
