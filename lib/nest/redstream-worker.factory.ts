import { Inject, Injectable } from '@nestjs/common';
import { Redstream, RedstreamConfigError } from '../engine';
import type { DiscoveredHandler } from './interfaces/redstream-handler.interface';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import { HandlerDecoratorOptions, HandlerWorker, RedstreamHandlerKind } from './redstream-handler-kinds';
import { RedstreamHandlerOptionsResolver } from './redstream-handler-options.resolver';
import { RedstreamHandlerWorker } from './redstream-handler-worker';
import { RedstreamHandlerInvoker } from './redstream-handler.invoker';
import { INVALID_HANDLER_OPTIONS } from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';
import { RedstreamTrimScheduler } from './redstream-trim.scheduler';

/**
 * Turns a discovered method into its engine worker, one code path for every kind: resolve the
 * options, build the worker around the invoker (which validates every option, naming the
 * method), and keep it if it runs in this process. Also builds the stream trimmers.
 */
@Injectable()
export class RedstreamWorkerFactory {
  constructor(
    @Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions,
    private readonly redstream: Redstream,
    private readonly resolver: RedstreamHandlerOptionsResolver,
    private readonly invoker: RedstreamHandlerInvoker,
  ) {}

  createHandlerWorker<TOptions extends HandlerDecoratorOptions, TWorker extends HandlerWorker>(
    kind: RedstreamHandlerKind<TOptions, TWorker>,
    handler: DiscoveredHandler<TOptions>,
  ): RedstreamHandlerWorker<TWorker> {
    const options = this.resolver.resolve(kind, handler);
    let built: TWorker | undefined;
    // Batches only come once the worker is built.
    const invoke = this.invoker.create(handler as DiscoveredHandler, () => kind.contextOf(options, built as TWorker));
    try {
      return new RedstreamHandlerWorker(
        options,
        (handle) => (built = kind.create(this.redstream, options, handle)),
        invoke,
        options.enabled && this.options.backgroundServices,
      );
    } catch (error) {
      if (error instanceof RedstreamConfigError) {
        throw new RedstreamConfigError(INVALID_HANDLER_OPTIONS(kind.decorator, handler.where, error.message), {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** The trimmer of `stream`, waiting for `consumerNames` and `groupNames`, on the module's schedule. */
  createTrimScheduler(
    stream: string,
    { consumerNames, groupNames }: { consumerNames: string[]; groupNames: string[] },
  ): RedstreamTrimScheduler | undefined {
    const { trimmer, consumerDefaults, logger } = this.options;
    if (trimmer === false) return undefined;
    const { lockTtlMs, lockRefreshMs, standbyPollMs, backoffInitialMs, backoffMaxMs } = consumerDefaults;
    const lockAndBackoff = { lockTtlMs, lockRefreshMs, standbyPollMs, backoffInitialMs, backoffMaxMs };
    const defined = Object.fromEntries(Object.entries(lockAndBackoff).filter(([, value]) => value !== undefined));
    return new RedstreamTrimScheduler(
      this.redstream.trimmer({
        ...defined,
        stream,
        consumerNames,
        groupNames,
        interval: 'intervalMs' in trimmer.schedule ? trimmer.schedule.intervalMs : undefined,
      }),
      trimmer.schedule,
      logger,
    );
  }
}
