import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Redstream } from '../engine';
import { withTimeout } from '../engine/with-timeout';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import { RedstreamHandlerOptionsResolver } from './redstream-handler-options.resolver';
import {
  BACKGROUND_SERVICES_DISABLED,
  DRAIN_TIMED_OUT,
  STOP_FAILED,
  STOP_TIMED_OUT_WITHOUT_HANDLERS,
  UNMATCHED_HANDLER_OVERRIDE,
} from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';
import { RedstreamRegistry } from './redstream.registry';
import { planTrimmers } from './redstream-trim.planner';
import { RedstreamWorkerFactory } from './redstream-worker.factory';

/** A worker being stopped at shutdown. */
interface Stopping {
  readonly label: string;
  /** True while its decorated method works on a batch. */
  readonly isHandling: boolean;
  readonly stopped: Promise<void>;
}

/**
 * Runs the registry's workers along Nest's lifecycle: started on application bootstrap
 * (never blocking it), told to stop before shutdown (batches in flight get `drainTimeoutMs`
 * to finish and commit), and the connections closed on shutdown.
 */
@Injectable()
export class RedstreamOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions,
    private readonly redstream: Redstream,
    private readonly registry: RedstreamRegistry,
    private readonly factory: RedstreamWorkerFactory,
    private readonly resolver: RedstreamHandlerOptionsResolver,
  ) {}

  onApplicationBootstrap(): void {
    const handlers = this.registry.handlerEntries();
    const known = handlers.map((handler) => handler.options.key);
    for (const key of this.resolver.unmatchedOverrides(known)) {
      this.options.logger.warn(UNMATCHED_HANDLER_OVERRIDE(key, known));
    }
    if (!this.options.backgroundServices) {
      if (handlers.length > 0) this.options.logger.log(BACKGROUND_SERVICES_DISABLED(handlers.length));
      return;
    }
    this.addTrimmers();
    if (this.options.autoStart) this.registry.start();
  }

  /**
   * Stops every worker. Waits (up to `drainTimeoutMs`) for those whose method is in a batch,
   * and for the others only while Redis answers: an idle worker has nothing to finish, and
   * with Redis unreachable its lock release cannot succeed (the lock expires on its own).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const redisAnswers = this.redstream.client.status === 'ready';
    const stopping = this.stopAll();
    const awaited = stopping.filter((worker) => worker.isHandling || redisAnswers);
    const drained = await withTimeout(
      Promise.all(awaited.map((worker) => worker.stopped)).then(() => true),
      this.options.drainTimeoutMs,
      () => false,
    );
    if (drained) return;
    const busy = stopping.filter((worker) => worker.isHandling).map((worker) => worker.label);
    this.options.logger.warn(
      busy.length > 0
        ? DRAIN_TIMED_OUT(this.options.drainTimeoutMs, busy)
        : STOP_TIMED_OUT_WITHOUT_HANDLERS(
            this.options.drainTimeoutMs,
            awaited.map((worker) => worker.label),
          ),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispose();
  }

  /** Closes the connections of the module (a client supplied in the options stays open). */
  dispose(): Promise<void> {
    // beforeApplicationShutdown already waited for the batches in flight; closing the
    // connections also ends a worker still waiting on a Redis that does not answer.
    return this.redstream.close({ drainTimeoutMs: 0 });
  }

  private addTrimmers(): void {
    if (this.options.trimmer === false || this.registry.trimSchedulerEntries().length > 0) return;
    const readers = this.registry
      .handlerEntries()
      .filter((handler) => handler.worker)
      .map((handler) => handler.options);
    for (const [stream, plan] of planTrimmers(readers, this.options.trimmer)) {
      const scheduler = this.factory.createTrimScheduler(stream, plan);
      if (scheduler) this.registry.addTrimScheduler(stream, scheduler);
    }
  }

  private stopAll(): Stopping[] {
    const report = (error: Error): void => this.options.logger.error(STOP_FAILED(error.message), error.stack);
    // A failure to stop cleanly must not keep the application from closing: locks expire.
    const handlers = this.registry
      .handlerEntries()
      .filter((handler) => handler.worker)
      .map((handler) => ({
        label: handler.label,
        get isHandling() {
          return handler.isHandling;
        },
        stopped: handler.stop().catch(report),
      }));
    const trimmers = this.registry.trimSchedulerEntries().map(([stream, scheduler]) => ({
      label: `Trimmer ${stream}`,
      isHandling: false,
      stopped: scheduler.stop().catch(report),
    }));
    return [...handlers, ...trimmers];
  }
}
