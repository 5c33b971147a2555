import { Inject, Injectable } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import { RedstreamConfigError, streamNameOf } from '../engine';
import { describeFailure } from '../engine/failure-reporter';
import type { RedstreamEventListenerMetadata } from './decorators/on-redstream-event.decorator';
import type { RedstreamWorkerEventName } from './interfaces/redstream-worker-event.interface';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import type { HandlerWorker, ResolvedHandlerOptions } from './redstream-handler-kinds';
import {
  EVENT_LISTENER_FAILED,
  MISSING_EVENT_OPTION,
  UNKNOWN_WORKER_EVENT,
  UNMATCHED_EVENT_LISTENER,
} from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';
import { RedstreamRegistry } from './redstream.registry';

/** A method decorated with `@OnRedstreamEvent`, found by the explorer. */
export interface DiscoveredEventListener extends RedstreamEventListenerMetadata {
  readonly instance: object;
  readonly methodName: string;
  /** `Class.method`, for errors and logs. */
  readonly where: string;
}

/**
 * Each `@OnRedstreamEvent` name and the engine event behind it per kind of worker, with the
 * arguments turned into the documented ones (`RedstreamWorkerEventArgs`).
 */
const ENGINE_EVENTS: Record<
  RedstreamWorkerEventName,
  (kind: ResolvedHandlerOptions['kind']) => { event: string; args?: (args: unknown[]) => unknown[] }
> = {
  active: () => ({ event: 'active' }),
  standby: () => ({ event: 'standby' }),
  failed: () => ({ event: 'failed' }),
  // A group acknowledges where an offset reader commits: `acked` is (count, lastId).
  committed: (kind) =>
    kind === 'group-consumer' ? { event: 'acked', args: ([count, lastId]) => [lastId, count] } : { event: 'committed' },
  rejected: () => ({ event: 'rejected' }),
  deadLettered: () => ({ event: 'deadLettered' }),
  stalled: () => ({ event: 'stalled' }),
  recovered: () => ({ event: 'recovered' }),
};

/** Failures of one listener are logged at the 1st, 10th, 100th... time: a failing worker repeats its events. */
const MAX_TRACKED_FAILURES = 100;

/**
 * Attaches the `@OnRedstreamEvent` methods to the engine workers of the registry, once, for
 * the application's life (the workers are the same objects across `stop()` and `start()`).
 * A listener that throws or rejects is logged and never reaches the worker.
 */
@Injectable()
export class RedstreamEventBinder {
  private readonly failures = new Map<string, number>();

  constructor(
    @Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions,
    private readonly registry: RedstreamRegistry,
  ) {}

  /** Validates the listener against the application's handlers and attaches it to the running worker, if any. */
  bind(listener: DiscoveredEventListener): void {
    const { event, options, where } = listener;
    const engineEvent = Object.prototype.hasOwnProperty.call(ENGINE_EVENTS, event) ? ENGINE_EVENTS[event] : undefined;
    if (!engineEvent) {
      throw new RedstreamConfigError(UNKNOWN_WORKER_EVENT(where, String(event), Object.keys(ENGINE_EVENTS)));
    }
    if (options?.stream === undefined) throw new RedstreamConfigError(MISSING_EVENT_OPTION(event, where, 'stream'));
    if (options.name === undefined) throw new RedstreamConfigError(MISSING_EVENT_OPTION(event, where, 'name'));
    const stream = streamNameOf(options.stream);
    const key = `${stream}:${options.name}`;
    const entry = this.registry.handlerEntry(key);
    if (!entry) {
      const keys = this.registry.handlerEntries().map((candidate) => candidate.options.key);
      throw new RedstreamConfigError(UNMATCHED_EVENT_LISTENER(event, where, stream, options.name, keys));
    }
    // Disabled, or background services are off: nothing runs, nothing to listen to.
    const worker = entry.worker;
    if (!worker) return;
    const { event: name, args } = engineEvent(entry.options.kind);
    this.subscribe(worker, name, (engineArgs) => this.call(listener, args ? args(engineArgs) : engineArgs));
  }

  private subscribe(worker: HandlerWorker, event: string, listener: (args: unknown[]) => void): void {
    (worker as EventEmitter).on(event, (...args: unknown[]) => listener(args));
  }

  private call(listener: DiscoveredEventListener, args: unknown[]): void {
    try {
      const method = (listener.instance as Record<string, unknown>)[listener.methodName] as (
        ...args: unknown[]
      ) => unknown;
      const result = method.apply(listener.instance, args);
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.report(listener, error));
    } catch (error) {
      this.report(listener, error);
    }
  }

  private report(listener: DiscoveredEventListener, error: unknown): void {
    const reason = describeFailure(error);
    const key = `${listener.where}:${listener.event}:${reason}`;
    const count = (this.failures.get(key) ?? 0) + 1;
    if (this.failures.size >= MAX_TRACKED_FAILURES) this.failures.clear();
    this.failures.set(key, count);
    if (!Number.isInteger(Math.log10(count))) return;
    const line = EVENT_LISTENER_FAILED(listener.event, listener.where, reason, count);
    if (count === 1 && error instanceof Error && error.stack) this.options.logger.error(line, error.stack);
    else this.options.logger.error(line);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
