import { ArgumentsHost, ContextType, Injectable } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import type { DiscoveredHandler } from './interfaces/redstream-handler.interface';
import type { RedstreamHandlerContext } from './interfaces/redstream-handler-context.interface';
import { REDSTREAM_CONTEXT_TYPE } from './redstream.constants';
import type { BatchHandler } from './redstream-handler-kinds';

/** The part of Nest's ExternalExceptionsHandler used here: the user's filters without the default one. */
interface ExceptionFilters {
  invokeCustomFilters(exception: unknown, host: ArgumentsHost): unknown;
}

/** The private filter context of Nest's ExternalContextCreator (Nest 8 to 11). */
interface ExceptionFilterContext {
  create(instance: object, callback: (...args: unknown[]) => unknown, moduleKey: string | undefined): ExceptionFilters;
}

type HandlerMethod = (...args: unknown[]) => unknown;
type RpcArgumentsHost = ReturnType<ArgumentsHost['switchToRpc']>;
type HttpArgumentsHost = ReturnType<ArgumentsHost['switchToHttp']>;
type WsArgumentsHost = ReturnType<ArgumentsHost['switchToWs']>;

/**
 * Calls a decorated method on its instance through Nest's external context, so guards,
 * interceptors and exception filters apply (global ones included) with
 * `host.getType() === 'redstream'`.
 *
 * As everywhere in Nest's external contexts, a filter's truthy return value becomes the
 * result (the batch is done), and an Observable is unwrapped. Unlike Nest's default, an error
 * no filter took care of is not logged here but re-thrown as it is: the worker logs each
 * failure once and retries the batch.
 */
@Injectable()
export class RedstreamHandlerInvoker {
  constructor(private readonly externalContextCreator: ExternalContextCreator) {}

  /**
   * Returns the batch handler; the external context is created on the first batch, once every
   * global enhancer is registered, and so is the handler context (a group member's name is
   * known once its worker exists).
   */
  create(handler: DiscoveredHandler, context: () => RedstreamHandlerContext): BatchHandler {
    let invoke: BatchHandler | undefined;
    return (messages) => {
      invoke ??= this.createNow(handler, context());
      return invoke(messages);
    };
  }

  private createNow(handler: DiscoveredHandler, context: RedstreamHandlerContext): BatchHandler {
    const { instance, methodName } = handler;
    const method = (instance as Record<string, HandlerMethod>)[methodName];
    const filters = this.exceptionFilters(instance, method, handler.moduleKey);
    const run = this.externalContextCreator.create(
      instance,
      method,
      methodName,
      undefined,
      undefined,
      undefined,
      undefined,
      // Without access to the filters alone, Nest applies them (and logs unhandled errors).
      { guards: true, interceptors: true, filters: filters === undefined },
      REDSTREAM_CONTEXT_TYPE,
    ) as (...args: unknown[]) => Promise<unknown>;

    return async (messages) => {
      try {
        return await settle(run(messages, context));
      } catch (error) {
        if (!filters) throw error;
        const host = new RedstreamArgumentsHost([messages, context]);
        // A filter that throws rejects here; one that returns nothing leaves the error to the worker.
        const handled = filters.invokeCustomFilters(error, host);
        if (!handled) throw error;
        return settle(handled);
      }
    };
  }

  /**
   * The method's exception filters (method, class and global ones, resolved in its module)
   * as Nest's ExternalExceptionsHandler holds them. Nest offers no public way to run them
   * without its default filter, which logs every error it re-throws; undefined where the
   * internals differ, and Nest then applies the filters itself.
   */
  private exceptionFilters(
    instance: object,
    method: HandlerMethod,
    moduleKey: string | undefined,
  ): ExceptionFilters | undefined {
    const filterContext = (this.externalContextCreator as unknown as { filtersContextCreator?: ExceptionFilterContext })
      .filtersContextCreator;
    if (typeof filterContext?.create !== 'function') return undefined;
    const filters = filterContext.create(instance, method, moduleKey);
    return typeof filters?.invokeCustomFilters === 'function' ? filters : undefined;
  }
}

/** Awaits a result and unwraps an Observable, e.g. an RPC-style filter's `throwError(...)`. */
async function settle(result: unknown): Promise<unknown> {
  const value: unknown = await result;
  return isObservable(value) ? lastValueFrom(value, { defaultValue: undefined }) : value;
}

/**
 * What exception filters get as `host`, like Nest's own for external contexts: the handler's
 * arguments, `getType() === 'redstream'`, data and context through `switchToRpc()`. Nest's
 * ExecutionContextHost is not part of its public API.
 */
class RedstreamArgumentsHost implements ArgumentsHost {
  constructor(private readonly args: unknown[]) {}

  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }

  getType<TContext extends string = ContextType>(): TContext {
    return REDSTREAM_CONTEXT_TYPE as TContext;
  }

  switchToRpc(): RpcArgumentsHost {
    return { getData: <T>() => this.args[0] as T, getContext: <T>() => this.args[1] as T };
  }

  switchToHttp(): HttpArgumentsHost {
    return {
      getRequest: <T>() => this.args[0] as T,
      getResponse: <T>() => this.args[1] as T,
      getNext: <T>() => this.args[2] as T,
    };
  }

  switchToWs(): WsArgumentsHost {
    return {
      getClient: <T>() => this.args[0] as T,
      getData: <T>() => this.args[1] as T,
      getPattern: () => '',
    };
  }
}
