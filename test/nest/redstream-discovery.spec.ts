import {
  ArgumentsHost,
  CallHandler,
  CanActivate,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseFilters,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { TestingModule } from '@nestjs/testing';
import { Observable, tap } from 'rxjs';
import {
  Producer,
  REDSTREAM_CONTEXT_TYPE,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamHandlerContext,
  RedstreamMessage,
  RedstreamRegistry,
} from '../../lib';
import { waitFor } from '../support/test-redis';
import { compileRedstreamApp } from './nest-test-helpers';

type IdPayload = { id: number };
const ids = (messages: RedstreamMessage<IdPayload>[]): number[] => messages.map((message) => message.payload.id);

@Injectable()
class ProductHandlers {
  readonly indexed: number[] = [];
  readonly cached: number[] = [];
  readonly receivers: unknown[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  async index(messages: RedstreamMessage<IdPayload>[]): Promise<void> {
    this.receivers.push(this);
    this.indexed.push(...ids(messages));
  }

  @RedstreamConsumer({ stream: 'products', name: 'cacher', batchSize: 2 })
  cache(messages: RedstreamMessage<IdPayload>[]): void {
    this.receivers.push(this);
    this.cached.push(...ids(messages));
  }
}

class AuditBase {
  readonly audited: number[] = [];

  @RedstreamConsumer({ stream: 'orders', name: 'audit' })
  audit(messages: RedstreamMessage<IdPayload>[]): void {
    this.audited.push(...ids(messages));
  }
}

@Injectable()
class OrderAudit extends AuditBase {}

class ValueHandler {
  readonly mailed: number[] = [];

  @RedstreamConsumer({ stream: 'users', name: 'mailer' })
  mail(messages: RedstreamMessage<IdPayload>[]): void {
    this.mailed.push(...ids(messages));
  }
}

class FactoryHandler {
  readonly billed: number[] = [];

  @RedstreamConsumer({ stream: 'accounts', name: 'billing' })
  bill(messages: RedstreamMessage<IdPayload>[], context: RedstreamHandlerContext): void {
    if (context.stream !== 'accounts' || context.name !== 'billing') throw new Error('wrong context');
    this.billed.push(...ids(messages));
  }
}

describe('RedstreamModule discovery', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs every decorated method on one and several streams, inherited and from value/factory providers, with its instance as this', async () => {
    const valueHandler = new ValueHandler();
    app = await compileRedstreamApp({
      providers: [
        ProductHandlers,
        OrderAudit,
        { provide: 'VALUE_HANDLER', useValue: valueHandler },
        { provide: 'FACTORY_HANDLER', useFactory: () => new FactoryHandler() },
        // An alias of a handler provider is the same handler, not a duplicate.
        { provide: 'ALIAS', useExisting: ProductHandlers },
      ],
    });
    await app.init();
    const producer = app.get(Producer);
    const products = app.get(ProductHandlers);
    const audit = app.get(OrderAudit);
    const factoryHandler = app.get<FactoryHandler>('FACTORY_HANDLER');

    await producer.queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await producer.queue('orders', { id: 10 });
    await producer.queue('users', { id: 20 });
    await producer.queue('accounts', { id: 30 });

    await waitFor(
      () =>
        products.indexed.length === 3 &&
        products.cached.length === 3 &&
        audit.audited.length === 1 &&
        valueHandler.mailed.length === 1 &&
        factoryHandler.billed.length === 1,
    );
    expect(products.indexed).toEqual([1, 2, 3]);
    expect(products.cached).toEqual([1, 2, 3]);
    expect(products.receivers.every((receiver) => receiver === products)).toBe(true);
    expect(audit.audited).toEqual([10]);
    expect(valueHandler.mailed).toEqual([20]);
    expect(factoryHandler.billed).toEqual([30]);

    const registry = app.get(RedstreamRegistry);
    const consumers = registry.consumers().map((consumer) => `${consumer.stream}:${consumer.name}`);
    expect(consumers.sort()).toEqual([
      'accounts:billing',
      'orders:audit',
      'products:cacher',
      'products:indexer',
      'users:mailer',
    ]);
    expect(registry.getConsumer('products', 'cacher')?.isActive).toBe(true);
    expect(
      registry
        .trimmers()
        .map((trimmer) => trimmer.stream)
        .sort(),
    ).toEqual(['accounts', 'orders', 'products', 'users']);
  });

  it('runs handlers through interceptors and guards that see the redstream context', async () => {
    const seen: { type: string; handler: string; className: string; data: unknown; context: unknown }[] = [];
    const after: string[] = [];

    @Injectable()
    class RecordingInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
        seen.push({
          type: context.getType<string>(),
          handler: context.getHandler().name,
          className: context.getClass().name,
          data: context.switchToRpc().getData(),
          context: context.switchToRpc().getContext(),
        });
        return next.handle().pipe(tap(() => after.push(context.getHandler().name)));
      }
    }

    // The usual global HTTP guard: it must let stream handlers through by their context type.
    @Injectable()
    class HttpOnlyGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        return context.getType<string>() === REDSTREAM_CONTEXT_TYPE;
      }
    }

    @Injectable()
    class Indexer {
      readonly indexed: number[] = [];
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.indexed.push(...ids(messages));
      }
    }

    app = await compileRedstreamApp({
      providers: [
        Indexer,
        { provide: APP_INTERCEPTOR, useClass: RecordingInterceptor },
        { provide: APP_GUARD, useClass: HttpOnlyGuard },
      ],
    });
    await app.init();
    await app.get(Producer).queue('products', { id: 7 });
    await waitFor(() => app!.get(Indexer).indexed.length === 1 && after.length === 1);

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      type: 'redstream',
      handler: 'index',
      className: 'Indexer',
      context: { kind: 'consumer', stream: 'products', name: 'indexer' },
    });
    expect(ids(seen[0].data as RedstreamMessage<IdPayload>[])).toEqual([7]);
  });

  it('hands handler errors to exception filters: a filter that returns a value completes the batch, one that re-throws retries it', async () => {
    const filtered: { message: string; type: string }[] = [];

    @Catch()
    class SwallowFilter implements ExceptionFilter {
      catch(exception: Error, host: ArgumentsHost): string {
        filtered.push({ message: exception.message, type: host.getType() });
        return 'dead-lettered';
      }
    }

    @Catch()
    class RethrowFilter implements ExceptionFilter {
      catch(exception: Error, host: ArgumentsHost): never {
        filtered.push({ message: exception.message, type: host.getType() });
        throw exception;
      }
    }

    @Injectable()
    class FailingHandlers {
      readonly poisonCalls: number[][] = [];
      readonly flakyCalls: number[][] = [];

      @RedstreamConsumer({ stream: 'poison', name: 'skipper' })
      @UseFilters(SwallowFilter)
      skip(messages: RedstreamMessage<IdPayload>[]): void {
        this.poisonCalls.push(ids(messages));
        throw new Error(`poison ${ids(messages).join(',')}`);
      }

      @RedstreamConsumer({ stream: 'flaky', name: 'retrier' })
      @UseFilters(RethrowFilter)
      retry(messages: RedstreamMessage<IdPayload>[]): void {
        this.flakyCalls.push(ids(messages));
        if (this.flakyCalls.length === 1) throw new Error('flaky once');
      }
    }

    app = await compileRedstreamApp({ providers: [FailingHandlers] });
    await app.init();
    const producer = app.get(Producer);
    const registry = app.get(RedstreamRegistry);
    const handlers = app.get(FailingHandlers);
    const [poisonId] = await producer.queue('poison', { id: 1 });
    const [flakyId] = await producer.queue('flaky', { id: 2 });

    await waitFor(async () => (await registry.redstream.committedOffset('poison', 'skipper')) === poisonId);
    await waitFor(async () => (await registry.redstream.committedOffset('flaky', 'retrier')) === flakyId);
    expect(handlers.poisonCalls).toEqual([[1]]);
    expect(handlers.flakyCalls).toEqual([[2], [2]]);
    expect(filtered).toEqual(
      expect.arrayContaining([
        { message: 'poison 1', type: 'redstream' },
        { message: 'flaky once', type: 'redstream' },
      ]),
    );
  });

  it('calls a delayer method with the due delay messages, which then reach the consumers', async () => {
    @Injectable()
    class ProductSync {
      readonly due: { payloads: unknown[]; context: RedstreamHandlerContext }[] = [];
      readonly indexed: number[] = [];

      @RedstreamDelayer({ stream: 'products', delay: 300 })
      onDue(messages: RedstreamMessage<IdPayload>[], context: RedstreamHandlerContext): void {
        this.due.push({ payloads: messages.map((message) => message.payload), context });
      }

      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.indexed.push(...ids(messages));
      }
    }

    app = await compileRedstreamApp({ providers: [ProductSync] });
    await app.init();
    const sync = app.get(ProductSync);
    const delayedAt = Date.now();
    await app.get(Producer).delay('products', [{ id: 41 }, { id: 42 }]);

    await waitFor(() => sync.indexed.length === 2);
    expect(Date.now() - delayedAt).toBeGreaterThanOrEqual(250);
    expect(sync.due).toEqual([
      { payloads: [{ id: 41 }, { id: 42 }], context: { kind: 'delayer', stream: 'products', name: 'delayer' } },
    ]);
    expect(sync.indexed).toEqual([41, 42]);
    expect(app.get(RedstreamRegistry).getDelayer('products')?.delayMs).toBe(300);
  });
});
