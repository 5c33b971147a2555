import { Injectable } from '@nestjs/common';
import {
  Consumer,
  DELAYER_CONSUMER_NAME,
  Delayer,
  GroupConsumer,
  Redstream,
  RedstreamConfigError,
  RedstreamPayload,
  StreamRef,
  streamNameOf,
  Trimmer,
} from '../engine';
import type { HandlerWorker } from './redstream-handler-kinds';
import type { RedstreamHandlerWorker } from './redstream-handler-worker';
import {
  DUPLICATE_CONSUMER,
  DUPLICATE_DELAYER,
  DUPLICATE_GROUP_CONSUMER,
  GROUP_NAMED_LIKE_CONSUMER,
  UNKNOWN_WORKER,
} from './redstream.messages';
import type { RedstreamTrimScheduler } from './redstream-trim.scheduler';

/** Something the registry starts and stops. */
interface Startable {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The application's Redstream background services, for health checks, admin endpoints and
 * manual control (with `autoStart: false`). It holds one worker per decorated method for the
 * application's life; the module fills it at bootstrap. Empty when `backgroundServices` is false.
 */
@Injectable()
export class RedstreamRegistry {
  private readonly handlers = new Map<string, RedstreamHandlerWorker>();
  private readonly trimSchedulers = new Map<string, RedstreamTrimScheduler>();

  constructor(
    /** The engine context: `committedOffset()`, `registeredConsumers()`, `forgetConsumer()`, `streamLength()`... */
    readonly redstream: Redstream,
  ) {}

  /**
   * The consumer `name` of `stream` (a name or a definition, which types the result), or
   * undefined when this application runs none (or it is disabled).
   */
  getConsumer<TPayload extends object = RedstreamPayload>(
    stream: StreamRef<TPayload>,
    name: string,
  ): Consumer<TPayload> | undefined {
    const worker = this.handlers.get(`${streamNameOf(stream)}:${name}`)?.worker;
    return worker instanceof Consumer ? (worker as unknown as Consumer<TPayload>) : undefined;
  }

  /** The group consumer of `group` on `stream`, or undefined when this application runs none (or it is disabled). */
  getGroupConsumer<TPayload extends object = RedstreamPayload>(
    stream: StreamRef<TPayload>,
    group: string,
  ): GroupConsumer<TPayload> | undefined {
    const worker = this.handlers.get(`${streamNameOf(stream)}:${group}`)?.worker;
    return worker instanceof GroupConsumer ? (worker as unknown as GroupConsumer<TPayload>) : undefined;
  }

  /** The delayer of `stream`, or undefined. */
  getDelayer(stream: StreamRef<object>): Delayer | undefined {
    const worker = this.handlers.get(`${streamNameOf(stream)}:${DELAYER_CONSUMER_NAME}`)?.worker;
    return worker instanceof Delayer ? worker : undefined;
  }

  /** The trimmer of `stream` (created on application bootstrap), or undefined. */
  getTrimmer(stream: StreamRef<object>): Trimmer | undefined {
    return this.trimSchedulers.get(streamNameOf(stream))?.trimmer;
  }

  /** Every consumer of this application. */
  consumers(): Consumer[] {
    return this.workers().filter((worker): worker is Consumer => worker instanceof Consumer);
  }

  /** Every group consumer of this application. */
  groupConsumers(): GroupConsumer[] {
    return this.workers().filter((worker): worker is GroupConsumer => worker instanceof GroupConsumer);
  }

  /** Every delayer of this application. */
  delayers(): Delayer[] {
    return this.workers().filter((worker): worker is Delayer => worker instanceof Delayer);
  }

  /** Every trimmer of this application. */
  trimmers(): Trimmer[] {
    return [...this.trimSchedulers.values()].map((scheduler) => scheduler.trimmer);
  }

  /** Starts every consumer, group consumer, delayer and trimmer that is not running; returns at once. */
  start(): void;
  /**
   * Starts consumer or group consumer `name` of `stream` (`'delayer'`: the stream's delayer)
   * and the stream's trimmer.
   */
  start(stream: string, name: string): void;
  start(stream?: string, name?: string): void {
    if (stream === undefined) {
      for (const startable of this.startables()) startable.start();
      return;
    }
    this.find(stream, name).start();
    if (name !== DELAYER_CONSUMER_NAME) this.trimSchedulers.get(stream)?.start();
  }

  /** Stops every consumer, group consumer, delayer and trimmer; resolves once handlers in flight have committed. */
  stop(): Promise<void>;
  /** Stops consumer or group consumer `name` of `stream` (`'delayer'`: the stream's delayer); the trimmer keeps running. */
  stop(stream: string, name: string): Promise<void>;
  async stop(stream?: string, name?: string): Promise<void> {
    if (stream === undefined) {
      await Promise.all(this.startables().map((startable) => startable.stop()));
      return;
    }
    await this.find(stream, name).stop();
  }

  /**
   * Records a decorated method (the module's explorer calls this).
   * @internal
   */
  addHandler(handler: RedstreamHandlerWorker): void {
    const { key } = handler.options;
    const existing = this.handlers.get(key);
    if (existing) throw new RedstreamConfigError(duplicateHandler(existing, handler));
    this.handlers.set(key, handler);
  }

  /**
   * Records the trimmer of a stream (the module's orchestrator calls this at bootstrap).
   * @internal
   */
  addTrimScheduler(stream: string, scheduler: RedstreamTrimScheduler): void {
    this.trimSchedulers.set(stream, scheduler);
  }

  /**
   * Every decorated method found, running in this process or not.
   * @internal
   */
  handlerEntries(): RedstreamHandlerWorker[] {
    return [...this.handlers.values()];
  }

  /**
   * The decorated method recorded under `'<stream>:<name>'`, running in this process or not.
   * @internal
   */
  handlerEntry(key: string): RedstreamHandlerWorker | undefined {
    return this.handlers.get(key);
  }

  /**
   * Trim schedulers by stream.
   * @internal
   */
  trimSchedulerEntries(): [stream: string, scheduler: RedstreamTrimScheduler][] {
    return [...this.trimSchedulers];
  }

  private workers(): HandlerWorker[] {
    return this.handlerEntries().flatMap((entry) => (entry.worker ? [entry.worker] : []));
  }

  private startables(): Startable[] {
    return [...this.handlerEntries().filter((entry) => entry.worker), ...this.trimSchedulers.values()];
  }

  private find(stream: string, name: string | undefined): Startable {
    const entry = this.handlerEntry(`${stream}:${String(name)}`);
    if (!entry?.worker) throw new RedstreamConfigError(UNKNOWN_WORKER(stream, String(name)));
    return entry;
  }
}

/** Why two handlers cannot share one `'<stream>:<name>'` key. */
function duplicateHandler(existing: RedstreamHandlerWorker, added: RedstreamHandlerWorker): string {
  const { kind, stream, name } = added.options;
  if (existing.options.kind !== kind) {
    const [consumer, group] = kind === 'group-consumer' ? [existing, added] : [added, existing];
    return GROUP_NAMED_LIKE_CONSUMER(stream, name, consumer.label, group.label);
  }
  if (kind === 'delayer') return DUPLICATE_DELAYER(stream, existing.label, added.label);
  if (kind === 'group-consumer') return DUPLICATE_GROUP_CONSUMER(stream, name, existing.label, added.label);
  return DUPLICATE_CONSUMER(stream, name, existing.label, added.label);
}
