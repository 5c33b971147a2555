import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  Consumer,
  Delayer,
  GroupConsumer,
  Redstream,
  RedstreamConfigError,
  RedstreamError,
  RedstreamLogger,
  RedstreamMessage,
  RedstreamPayload,
  Trimmer,
  validateStreamName,
} from '../engine';
import { positiveMs } from '../engine/option-validation';
import { resolveLogger } from '../engine/redstream-context';
import { engineLoggerOf } from '../nest/redstream-nest-logger';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../engine/redstream-defaults';
import { withTimeout } from '../engine/with-timeout';
import type { RedstreamServerOptions } from './interfaces/redstream-server-options.interface';
import { RedstreamEventContext } from './redstream-event.context';
import { REDSTREAM_TRANSPORT, REDSTREAM_TRANSPORT_LOGGER_CONTEXT } from './redstream-transport.constants';
import {
  DRAIN_TIMED_OUT,
  EVENT_HANDLER_FAILED,
  LISTEN_AFTER_CLOSE,
  LISTEN_TWICE,
  MESSAGE_PATTERNS_NOT_SUPPORTED,
  NO_EVENT_PATTERNS,
  PATTERN_NOT_A_STREAM,
  SERVER_MODE_REQUIRED,
  STOP_FAILED,
} from './redstream-transport.messages';

/**
 * The events of {@link RedstreamServer} (`server.on(...)`, or `app.on(...)` on the
 * microservice), each naming the pattern (the stream) whose worker it concerns.
 */
export type RedstreamServerEvents = {
  /** The pattern's consumer (or group member) works now; in consumer mode, it holds the lock. */
  active: (pattern: string) => void;
  /** The pattern's consumer lost or could not take its lock and waits as a hot standby. */
  standby: (pattern: string, reason: string) => void;
  /** A batch (or Redis) failed; it is retried after `retryInMs`. */
  failed: (pattern: string, error: Error, retryInMs: number) => void;
};

/** A handler's failure as the consumer sees it: the batch is retried. */
export class RedstreamEventHandlerError extends RedstreamError {}

/** The engine workers of one `@EventPattern`. */
interface PatternWorkers {
  readonly pattern: string;
  readonly reader: Consumer | GroupConsumer;
  readonly delayer?: Delayer;
  readonly trimmer?: Trimmer;
}

type Worker = Consumer | GroupConsumer | Delayer | Trimmer;

/**
 * A NestJS microservice transport on redstream's streams (`CustomTransportStrategy`): each
 * `@EventPattern('products')` handler consumes the stream `products` with the engine's own
 * workers. In `consumer` mode, a Consumer per pattern (one active instance per stream and name,
 * the others hot standbys; committed offsets; in order, at least once); in `group` mode, a
 * member of a Redis consumer group per pattern. Optionally a Delayer per stream, and a Trimmer
 * per stream unless `trimmer: false`.
 *
 * The handler is called once per message, with the message's payload as data and a
 * {@link RedstreamEventContext}, one after the other in stream order; the batch is committed
 * after every message of it was handled. A handler that throws (or whose observable errors)
 * fails the batch: it is handled again from its first message after a backoff, as for any
 * failing consumer, so handlers must be idempotent. `@MessagePattern` (request/response) cannot
 * be served by a log: `listen()` fails with a message saying so.
 *
 * @example
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new RedstreamServer({ redis: 'redis://127.0.0.1:6379', consumer: 'billing' }),
 * });
 * await app.listen();
 */
// `Server`, not `Server<RedstreamServerEvents>`: NestJS 10's Server is not generic, and the
// published declarations must compile against it (our own `on()` types the events anyway).
export class RedstreamServer extends Server implements CustomTransportStrategy {
  private readonly options: RedstreamServerOptions;
  private readonly engineLogger: RedstreamLogger;
  private readonly drainTimeoutMs: number;
  private readonly events = new EventEmitter();
  private redstream?: Redstream;
  private workers: PatternWorkers[] = [];
  private listening = false;
  private closing?: Promise<void>;

  constructor(options: RedstreamServerOptions) {
    super();
    // Before anything connects: a wrong option fails where the strategy is built.
    const hasConsumer = options?.consumer !== undefined;
    const hasGroup = options?.group !== undefined;
    if (hasConsumer === hasGroup) {
      throw new RedstreamConfigError(SERVER_MODE_REQUIRED(hasConsumer ? 'both were given' : 'neither was given'));
    }
    this.options = options;
    this.drainTimeoutMs = positiveMs(
      options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      'RedstreamServer: drainTimeoutMs',
    );
    this.engineLogger = engineLoggerOf(
      resolveLogger(options.logger, 'RedstreamServer: logger', new Logger(REDSTREAM_TRANSPORT_LOGGER_CONTEXT)),
    );
    // Lets `@EventPattern('x', REDSTREAM_TRANSPORT)` bind a handler to this transport alone.
    this.transportId = REDSTREAM_TRANSPORT;
    // NestJS 12: an error of an event handler comes back to this transport, which retries the
    // batch and logs the failure itself, instead of being logged once more by Nest.
    (this as { propagatesEventHandlerErrors?: boolean }).propagatesEventHandlerErrors = true;
  }

  /**
   * Starts a worker for each `@EventPattern` stream and calls `callback` at once (workers take
   * their locks in the background), or with an error when a handler cannot be served: a
   * `@MessagePattern`, or a pattern that is not a valid stream name.
   */
  listen(callback: (error?: unknown, ...optionalParams: unknown[]) => void): void {
    try {
      this.startWorkers();
    } catch (error) {
      callback(error);
      return;
    }
    callback();
  }

  /**
   * Stops every worker (batches in flight finish and commit, within `drainTimeoutMs`), releases
   * the locks (waking the standbys of other instances) and closes the connections. Idempotent:
   * later calls return the first call's promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Subscribes to the workers' events (see {@link RedstreamServerEvents}). One overload per
   * event rather than a generic signature: the plain `Server` of NestJS 11+ declares
   * `on<EventKey extends string>`, which a generic narrowed to our keys cannot override.
   */
  on(event: 'active', callback: RedstreamServerEvents['active']): this;
  on(event: 'standby', callback: RedstreamServerEvents['standby']): this;
  on(event: 'failed', callback: RedstreamServerEvents['failed']): this;
  on(event: keyof RedstreamServerEvents, callback: RedstreamServerEvents[keyof RedstreamServerEvents]): this {
    this.events.on(event, callback);
    return this;
  }

  /** The engine this server consumes with (its connections, lag and dead-letter reads); `undefined` before `listen()`. */
  unwrap<T = Redstream | undefined>(): T {
    return this.redstream as T;
  }

  private startWorkers(): void {
    if (this.closing) throw new RedstreamConfigError(LISTEN_AFTER_CLOSE());
    if (this.listening) throw new RedstreamConfigError(LISTEN_TWICE());
    const patterns = this.eventPatterns();
    const redstream = new Redstream({
      redis: this.options.redis,
      namespace: this.options.namespace,
      logger: this.engineLogger,
    });
    this.redstream = redstream;
    this.listening = true;
    try {
      this.workers = [...patterns].map(([pattern, handler]) => this.createWorkers(redstream, pattern, handler));
    } catch (error) {
      // A worker option was invalid: the workers built before it must not keep connections open.
      void redstream.close({ drainTimeoutMs: 0 });
      throw error;
    }
    if (this.workers.length === 0) this.engineLogger.warn(NO_EVENT_PATTERNS());
    for (const { reader, delayer, trimmer } of this.workers) {
      reader.start();
      delayer?.start();
      trimmer?.start();
    }
  }

  /** The event handlers by stream; throws when a handler cannot be served by a stream. */
  private eventPatterns(): Map<string, MessageHandler> {
    const requestPatterns: string[] = [];
    const patterns = new Map<string, MessageHandler>();
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) {
        requestPatterns.push(pattern);
        continue;
      }
      try {
        validateStreamName(pattern);
      } catch (error) {
        throw new RedstreamConfigError(PATTERN_NOT_A_STREAM(pattern, (error as Error).message), { cause: error });
      }
      patterns.set(pattern, handler);
    }
    if (requestPatterns.length > 0) throw new RedstreamConfigError(MESSAGE_PATTERNS_NOT_SUPPORTED(requestPatterns));
    return patterns;
  }

  private createWorkers(redstream: Redstream, pattern: string, handler: MessageHandler): PatternWorkers {
    const handleBatch = (messages: RedstreamMessage<RedstreamPayload>[]): Promise<void> =>
      this.handleBatch(pattern, handler, messages);
    const options = this.options;
    const reader =
      options.consumer !== undefined
        ? redstream.consumer({
            ...options.consumerOptions,
            stream: pattern,
            name: options.consumer,
            handler: handleBatch,
          })
        : redstream.groupConsumer({
            ...options.groupOptions,
            stream: pattern,
            group: options.group,
            handler: handleBatch,
          });
    this.forwardEvents(pattern, reader);
    const delayer = options.delayer ? redstream.delayer({ ...options.delayer, stream: pattern }) : undefined;
    const trimmer =
      options.trimmer === false
        ? undefined
        : redstream.trimmer({
            ...options.trimmer,
            stream: pattern,
            ...(options.consumer !== undefined
              ? { consumerNames: [options.consumer] }
              : { groupNames: [options.group] }),
          });
    return { pattern, reader, delayer, trimmer };
  }

  private forwardEvents(pattern: string, reader: Consumer | GroupConsumer): void {
    // Typed per worker class; both emit these three with the same arguments.
    const emitter = reader as unknown as EventEmitter;
    emitter.on('active', () => this.events.emit('active', pattern));
    emitter.on('standby', (reason: string) => this.events.emit('standby', pattern, reason));
    emitter.on('failed', (error: Error, retryInMs: number) => this.events.emit('failed', pattern, error, retryInMs));
  }

  /** One message after the other, in stream order; the first failure fails the batch. */
  private async handleBatch(
    pattern: string,
    handler: MessageHandler,
    messages: RedstreamMessage<RedstreamPayload>[],
  ): Promise<void> {
    for (const message of messages) {
      const context = new RedstreamEventContext([message, pattern]);
      try {
        await this.withProcessingHooks(context, () => this.callHandler(handler, message.payload, context));
      } catch (error) {
        throw new RedstreamEventHandlerError(EVENT_HANDLER_FAILED(pattern, message.id, describe(error)), {
          cause: error,
        });
      }
    }
  }

  private async callHandler(handler: MessageHandler, data: unknown, context: RedstreamEventContext): Promise<void> {
    // Nest's proxy turns a throw into an observable that errors (after the exception filters),
    // and several handlers of one pattern into a forkJoin: waiting for it waits for them all.
    const result: unknown = await handler(data, context);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  /**
   * Runs `work` inside the start hook and then calls the end hook, as Nest's own transports do,
   * so instrumentation set with `setOnProcessingStartHook` sees stream handlers too. NestJS 10
   * has no hooks: `work` then runs as it is.
   */
  private withProcessingHooks(context: RedstreamEventContext, work: () => Promise<void>): Promise<void> {
    const start = this.onProcessingStartHook as Server['onProcessingStartHook'] | undefined;
    const end = (): void => this.onProcessingEndHook?.(this.transportId ?? REDSTREAM_TRANSPORT, context);
    const run = (): Promise<void> => work().finally(end);
    if (!start) return run();
    return new Promise<void>((resolve, reject) => {
      const done = (): Promise<void> => {
        const outcome = run();
        outcome.then(resolve, reject);
        return outcome;
      };
      try {
        Promise.resolve(start(this.transportId ?? REDSTREAM_TRANSPORT, context, done)).catch(reject);
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  private async shutdown(): Promise<void> {
    const redstream = this.redstream;
    const stopping = this.workers.flatMap(({ pattern, reader, delayer, trimmer }) =>
      [reader, delayer, trimmer]
        .filter((worker): worker is Worker => worker !== undefined)
        .map((worker) => ({
          pattern,
          done: false,
          stopped: worker
            .stop()
            .catch((error: Error) => this.engineLogger.error(STOP_FAILED(worker.label, error.message))),
        })),
    );
    for (const worker of stopping) void worker.stopped.then(() => (worker.done = true));
    const drained = await withTimeout(
      Promise.all(stopping.map((worker) => worker.stopped)).then(() => true),
      this.drainTimeoutMs,
      () => false,
    );
    if (!drained) {
      const busy = [...new Set(stopping.filter((worker) => !worker.done).map((worker) => worker.pattern))];
      this.engineLogger.warn(DRAIN_TIMED_OUT(this.drainTimeoutMs, busy));
    }
    this.events.removeAllListeners();
    // The workers have stopped (or had their time): closing also ends one still waiting on Redis.
    await redstream?.close({ drainTimeoutMs: 0 });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  // Nest's exception filter turns an unknown throw into { status: 'error', message: 'Internal server error' }.
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
