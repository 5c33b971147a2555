import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  Consumer,
  DELAYER_CONSUMER_NAME,
  Delayer,
  ReadingWorkerOptions,
  RedstreamConfigError,
  RedstreamMessage,
  RedstreamPayload,
  Redstream,
  Trimmer,
  WORKER_DEFAULTS,
} from '../engine';
import type { RedstreamConsumerOptions } from './interfaces/redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './interfaces/redstream-delayer-options.interface';
import type { DiscoveredHandler } from './interfaces/redstream-handler.interface';
import type { RedstreamHandlerContext } from './interfaces/redstream-handler-context.interface';
import type { RedstreamHandlerOverrides } from './interfaces/redstream-module-options.interface';
import { REDSTREAM_CONTEXT_TYPE, REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import {
  BACKGROUND_SERVICES_DISABLED,
  DRAIN_TIMED_OUT,
  DUPLICATE_CONSUMER,
  DUPLICATE_DELAYER,
  HandlerDecoratorName,
  INVALID_HANDLER_OPTIONS,
  INVALID_MODULE_OPTION,
  MISSING_OPTION,
  RESERVED_CONSUMER_NAME,
  UNKNOWN_WORKER,
  UNMATCHED_HANDLER_OVERRIDE,
} from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';
import { RedstreamTrimScheduler } from './redstream-trim.scheduler';

interface Startable {
  start(): void;
  stop(): Promise<void>;
}

/** One background service: engine workers cannot restart once stopped, so a restart creates a new one. */
class ManagedWorker<TWorker extends Startable> {
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private stopping?: Promise<void>;

  constructor(
    /** `Class.method` of the handler, or `Trimmer <stream>`. */
    readonly label: string,
    private readonly create: () => TWorker,
    public worker: TWorker = create(),
  ) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  start(): void {
    if (this.state === 'running') return;
    if (this.state === 'stopped') this.worker = this.create();
    this.state = 'running';
    this.worker.start();
  }

  stop(): Promise<void> {
    if (this.state !== 'running') return this.stopping ?? Promise.resolve();
    this.state = 'stopped';
    const stopping = this.worker.stop().finally(() => {
      if (this.stopping === stopping) this.stopping = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }
}

interface ConsumerEntry {
  readonly stream: string;
  readonly name: string;
  readonly where: string;
  /** Undefined when the handler is disabled or background services are off. */
  readonly managed?: ManagedWorker<Consumer>;
}

interface DelayerEntry {
  readonly stream: string;
  readonly where: string;
  readonly managed?: ManagedWorker<Delayer>;
}

type WorkerSettings = Omit<ReadingWorkerOptions, 'logger'> & { handlerTimeoutMs?: number };
const WORKER_SETTING_KEYS = Object.keys(WORKER_DEFAULTS) as (keyof typeof WORKER_DEFAULTS)[];

/**
 * Validates the discovered handlers, turns them into engine consumers, delayers and trimmers,
 * and runs them along Nest's lifecycle: started on application bootstrap (never blocking
 * it), told to stop taking batches before shutdown, drained within `drainTimeoutMs`, and
 * the connections closed on shutdown.
 */
@Injectable()
export class RedstreamOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly consumers = new Map<string, ConsumerEntry>();
  private readonly delayers = new Map<string, DelayerEntry>();
  private readonly trimmers = new Map<string, ManagedWorker<RedstreamTrimScheduler>>();

  constructor(
    @Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions,
    private readonly redstream: Redstream,
    private readonly externalContextCreator: ExternalContextCreator,
  ) {}

  /** Validates and records a `@RedstreamConsumer()` method. */
  addConsumer(handler: DiscoveredHandler<RedstreamConsumerOptions>): void {
    const decorator = '@RedstreamConsumer';
    const { stream, name } = handler.options;
    if (stream === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, handler.where, 'stream'));
    if (name === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, handler.where, 'name'));
    if (name === DELAYER_CONSUMER_NAME) throw new RedstreamConfigError(RESERVED_CONSUMER_NAME(handler.where, name));
    const key = `${stream}:${name}`;
    const existing = this.consumers.get(key);
    if (existing) throw new RedstreamConfigError(DUPLICATE_CONSUMER(stream, name, existing.where, handler.where));

    const overrides = this.overridesFor(key, 'consumer');
    const settings = this.settings(handler.options, overrides, true);
    const context: RedstreamHandlerContext = { kind: 'consumer', stream, name };
    const invoke = this.createInvoker(handler, context);
    const create = (): Consumer =>
      this.redstream.consumer({ ...settings, stream, name, handler: (messages) => invoke(messages) });
    // Constructing validates every option; the instance is kept only if it will run.
    const consumer = this.validated(decorator, handler.where, create);
    const enabled = overrides.enabled ?? handler.options.enabled ?? true;
    const managed =
      enabled && this.options.backgroundServices ? new ManagedWorker(handler.where, create, consumer) : undefined;
    this.consumers.set(key, { stream, name, where: handler.where, managed });
  }

  /** Validates and records a `@RedstreamDelayer()` method. */
  addDelayer(handler: DiscoveredHandler<RedstreamDelayerOptions>): void {
    const decorator = '@RedstreamDelayer';
    const { stream, delay } = handler.options;
    if (stream === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, handler.where, 'stream'));
    const existing = this.delayers.get(stream);
    if (existing) throw new RedstreamConfigError(DUPLICATE_DELAYER(stream, existing.where, handler.where));

    const key = `${stream}:${DELAYER_CONSUMER_NAME}`;
    const overrides = this.overridesFor(key, 'delayer');
    const resolvedDelay = overrides.delay ?? delay;
    if (resolvedDelay === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, handler.where, 'delay'));
    const settings = this.settings(handler.options, overrides, false);
    const context: RedstreamHandlerContext = { kind: 'delayer', stream, name: DELAYER_CONSUMER_NAME };
    const invoke = this.createInvoker(handler, context);
    const create = (): Delayer =>
      this.redstream.delayer({ ...settings, stream, delay: resolvedDelay, onDue: (messages) => invoke(messages) });
    const delayer = this.validated(decorator, handler.where, create);
    const enabled = overrides.enabled ?? handler.options.enabled ?? true;
    const managed =
      enabled && this.options.backgroundServices ? new ManagedWorker(handler.where, create, delayer) : undefined;
    this.delayers.set(stream, { stream, where: handler.where, managed });
  }

  onApplicationBootstrap(): void {
    this.warnAboutUnmatchedOverrides();
    if (!this.options.backgroundServices) {
      const found = this.consumers.size + this.delayers.size;
      if (found > 0) this.options.logger.log(BACKGROUND_SERVICES_DISABLED(found));
      return;
    }
    this.createTrimmers();
    if (this.options.autoStart) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    // A failure to stop cleanly must not keep the application from closing: locks expire.
    const stopping = this.stop().catch((error: Error) =>
      this.options.logger.error(`Shutdown: stopping the background services failed: ${error.message}`, error.stack),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.options.drainTimeoutMs);
    });
    if (await Promise.race([stopping.then(() => false), timedOut]).finally(() => clearTimeout(timer))) {
      const busy = this.managedWorkers().filter((managed) => managed.isStopping);
      this.options.logger.warn(
        DRAIN_TIMED_OUT(
          this.options.drainTimeoutMs,
          busy.map((managed) => managed.label),
        ),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispose();
  }

  /** Closes the connections of the module (a client supplied in the options stays open). */
  dispose(): Promise<void> {
    // beforeApplicationShutdown already waited drainTimeoutMs for the workers.
    return this.redstream.close({ drainTimeoutMs: 0 });
  }

  /**
   * Starts every background service, or the consumer `name` of `stream` (`delayer` for the
   * stream's delayer) together with the stream's trimmer. Returns at once.
   */
  start(stream?: string, name?: string): void {
    if (stream === undefined) {
      for (const managed of this.managedWorkers()) managed.start();
      return;
    }
    this.find(stream, name).start();
    if (name !== DELAYER_CONSUMER_NAME) this.trimmers.get(stream)?.start();
  }

  /**
   * Stops every background service, or one (trimmers keep running), letting handlers in
   * flight finish and commit. Resolves when they have stopped.
   */
  async stop(stream?: string, name?: string): Promise<void> {
    if (stream === undefined) {
      await Promise.all(this.managedWorkers().map((managed) => managed.stop()));
      return;
    }
    await this.find(stream, name).stop();
  }

  getConsumer(stream: string, name: string): Consumer | undefined {
    return this.consumers.get(`${stream}:${name}`)?.managed?.worker;
  }

  getDelayer(stream: string): Delayer | undefined {
    return this.delayers.get(stream)?.managed?.worker;
  }

  getTrimmer(stream: string): Trimmer | undefined {
    return this.trimmers.get(stream)?.worker.trimmer;
  }

  allConsumers(): Consumer[] {
    return [...this.consumers.values()].flatMap((entry) => (entry.managed ? [entry.managed.worker] : []));
  }

  allDelayers(): Delayer[] {
    return [...this.delayers.values()].flatMap((entry) => (entry.managed ? [entry.managed.worker] : []));
  }

  allTrimmers(): Trimmer[] {
    return [...this.trimmers.values()].map((managed) => managed.worker.trimmer);
  }

  private managedWorkers(): ManagedWorker<Startable>[] {
    const handlers = [...this.consumers.values(), ...this.delayers.values()].flatMap((entry) =>
      entry.managed ? [entry.managed as ManagedWorker<Startable>] : [],
    );
    return [...handlers, ...this.trimmers.values()];
  }

  private find(stream: string, name: string | undefined): ManagedWorker<Startable> {
    const managed =
      name === DELAYER_CONSUMER_NAME
        ? this.delayers.get(stream)?.managed
        : this.consumers.get(`${stream}:${name}`)?.managed;
    if (!managed) throw new RedstreamConfigError(UNKNOWN_WORKER(stream, String(name)));
    return managed;
  }

  /** One trimmer per stream that enabled consumers of this application read. */
  private createTrimmers(): void {
    const { trimmer } = this.options;
    if (trimmer === false || this.trimmers.size > 0) return;
    const namesByStream = new Map<string, string[]>();
    for (const entry of this.consumers.values()) {
      if (!entry.managed) continue;
      namesByStream.set(entry.stream, [...(namesByStream.get(entry.stream) ?? []), entry.name]);
    }
    const { lockTtlMs, lockRefreshMs, standbyPollMs, backoffInitialMs, backoffMaxMs } = this.options.consumerDefaults;
    for (const [stream, names] of namesByStream) {
      // This application's own consumers count from the start, before they first register
      // in Redis: otherwise the first trim could delete what a new consumer has not read.
      const consumerNames = [...new Set([...names, ...(trimmer.consumerNames[stream] ?? [])])];
      const create = (): RedstreamTrimScheduler =>
        new RedstreamTrimScheduler(
          this.redstream.trimmer({
            ...definedOnly({ lockTtlMs, lockRefreshMs, standbyPollMs, backoffInitialMs, backoffMaxMs }),
            stream,
            consumerNames,
            interval: 'intervalMs' in trimmer.schedule ? trimmer.schedule.intervalMs : undefined,
          }),
          trimmer.schedule,
          this.options.logger,
        );
      this.trimmers.set(stream, new ManagedWorker(`Trimmer ${stream}`, create));
    }
  }

  private overridesFor(key: string, kind: 'consumer' | 'delayer'): RedstreamHandlerOverrides {
    const overrides = this.options.handlers[key] ?? {};
    const foreign = kind === 'consumer' ? 'delay' : 'handlerTimeoutMs';
    if (overrides[foreign] !== undefined) {
      throw new RedstreamConfigError(
        INVALID_MODULE_OPTION(`handlers["${key}"].${foreign}`, `a ${kind} has no ${foreign}`),
      );
    }
    return overrides;
  }

  /** consumerDefaults < decorator < handlers overrides; undefined never hides a value below it. */
  private settings(
    decorated: Partial<RedstreamConsumerOptions | RedstreamDelayerOptions>,
    overrides: RedstreamHandlerOverrides,
    withHandlerTimeout: boolean,
  ): WorkerSettings {
    const keys: (keyof WorkerSettings)[] = withHandlerTimeout
      ? [...WORKER_SETTING_KEYS, 'handlerTimeoutMs']
      : WORKER_SETTING_KEYS;
    const layers: Partial<Record<keyof WorkerSettings, unknown>>[] = [
      this.options.consumerDefaults,
      decorated,
      overrides,
    ];
    const settings: Partial<Record<keyof WorkerSettings, unknown>> = {};
    for (const key of keys) {
      for (const layer of layers) if (layer[key] !== undefined) settings[key] = layer[key];
    }
    return settings as WorkerSettings;
  }

  private validated<TWorker>(decorator: HandlerDecoratorName, where: string, create: () => TWorker): TWorker {
    try {
      return create();
    } catch (error) {
      if (error instanceof RedstreamConfigError) {
        throw new RedstreamConfigError(INVALID_HANDLER_OPTIONS(decorator, where, error.message), { cause: error });
      }
      throw error;
    }
  }

  /**
   * Calls the method on its instance through Nest's external context, so guards,
   * interceptors and exception filters apply, with `host.getType() === 'redstream'`. Created on
   * the first batch, when every global enhancer has been registered. As everywhere in Nest's
   * external contexts, a filter's truthy return value becomes the result (the batch is done);
   * a filter that returns nothing or throws leaves the error to Nest's default handler, which
   * logs and re-throws it, and the batch is retried.
   */
  private createInvoker(
    handler: DiscoveredHandler<RedstreamConsumerOptions | RedstreamDelayerOptions>,
    context: RedstreamHandlerContext,
  ): (messages: RedstreamMessage<RedstreamPayload>[]) => Promise<unknown> {
    let invoke: ((...args: unknown[]) => Promise<unknown>) | undefined;
    return async (messages) => {
      invoke ??= this.externalContextCreator.create(
        handler.instance,
        (handler.instance as Record<string, (...args: unknown[]) => unknown>)[handler.methodName],
        handler.methodName,
        undefined,
        undefined,
        undefined,
        undefined,
        { guards: true, interceptors: true, filters: true },
        REDSTREAM_CONTEXT_TYPE,
      );
      const result = await invoke(messages, context);
      // An exception filter may answer with an Observable, e.g. RPC-style `throwError(...)`.
      return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
    };
  }

  private warnAboutUnmatchedOverrides(): void {
    const known = [...this.consumers.keys(), ...[...this.delayers.keys()].map((s) => `${s}:${DELAYER_CONSUMER_NAME}`)];
    for (const key of Object.keys(this.options.handlers)) {
      if (!known.includes(key)) this.options.logger.warn(UNMATCHED_HANDLER_OVERRIDE(key, known));
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
