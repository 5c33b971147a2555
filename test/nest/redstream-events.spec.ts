import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type Redis from 'ioredis';
import {
  defineStream,
  OnRedstreamEvent,
  Producer,
  Redstream,
  RedstreamConfigError,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamGroupConsumer,
  RedstreamMessage,
  RedstreamRegistry,
} from '../../lib';
import { consumerLockName } from '../../lib/engine';
import { connectTestRedis, waitFor } from '../support/test-redis';
import { compileRedstreamApp, RecordingLogger } from './nest-test-helpers';

interface Product {
  id: number;
  checked: true;
}

const Products = defineStream('products', {
  parse: (payload: unknown): Product => {
    const id = (payload as { id?: unknown }).id;
    if (typeof id !== 'number') throw new TypeError(`id must be a number, got ${JSON.stringify(id)}`);
    return { id, checked: true };
  },
});

@Injectable()
class ProductHandlers {
  readonly indexed: Product[] = [];
  failOnce = false;

  @RedstreamConsumer({ stream: Products, name: 'indexer' })
  index(messages: RedstreamMessage<Product>[]): void {
    if (this.failOnce) {
      this.failOnce = false;
      throw new Error('index unavailable');
    }
    this.indexed.push(...messages.map((message) => message.payload));
  }

  @RedstreamGroupConsumer({ stream: Products, group: 'mailers' })
  mail(messages: RedstreamMessage<Product>[]): void {
    void messages;
  }

  @RedstreamDelayer({ stream: Products, delay: 200 })
  due(): void {}
}

/** Listeners on another provider than the handlers, as a metrics service would be. */
@Injectable()
class WorkerWatcher {
  readonly seen: [string, ...unknown[]][] = [];

  @OnRedstreamEvent('active', { stream: Products, name: 'indexer' })
  onActive(offset: string): void {
    this.seen.push(['active', offset]);
  }

  @OnRedstreamEvent('committed', { stream: 'products', name: 'indexer' })
  onCommitted(lastId: string, count: number): void {
    this.seen.push(['committed', lastId, count]);
  }

  @OnRedstreamEvent('failed', { stream: Products, name: 'indexer' })
  onFailed(error: Error, retryInMs: number): void {
    this.seen.push(['failed', error.message, typeof retryInMs]);
  }

  @OnRedstreamEvent('rejected', { stream: Products, name: 'indexer' })
  @OnRedstreamEvent('rejected', { stream: Products, name: 'mailers' })
  onRejected(entries: { id: string; reason: string }[]): void {
    this.seen.push(['rejected', entries.map((entry) => entry.reason)]);
  }

  @OnRedstreamEvent('standby', { stream: Products, name: 'indexer' })
  onStandby(reason: string): void {
    this.seen.push(['standby', reason]);
  }

  @OnRedstreamEvent('active', { stream: Products, name: 'mailers' })
  onMemberActive(member: string): void {
    this.seen.push(['group active', member]);
  }

  @OnRedstreamEvent('committed', { stream: Products, name: 'mailers' })
  onAcked(lastId: string, count: number): void {
    this.seen.push(['group committed', lastId, count]);
  }

  @OnRedstreamEvent('committed', { stream: Products, name: 'delayer' })
  onDelayerCommitted(lastId: string, count: number): void {
    this.seen.push(['delayer committed', lastId, count]);
  }

  of(event: string): unknown[][] {
    return this.seen.filter(([name]) => name === event).map(([, ...args]) => args);
  }
}

describe('@OnRedstreamEvent', () => {
  let app: TestingModule | undefined;
  let redis: Redis;
  beforeEach(() => {
    redis = connectTestRedis();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    redis.disconnect();
  });

  it('calls provider methods with the documented arguments of consumer, group consumer and delayer events', async () => {
    app = await compileRedstreamApp({ providers: [ProductHandlers, WorkerWatcher] });
    await app.init();
    const watcher = app.get(WorkerWatcher);
    const handlers = app.get(ProductHandlers);
    const producer = app.get(Producer);
    const registry = app.get(RedstreamRegistry);

    await waitFor(() => watcher.of('active').length === 1 && watcher.of('group active').length === 1);
    expect(watcher.of('active')).toEqual([['0-0']]);
    expect(watcher.of('group active')).toEqual([[registry.getGroupConsumer('products', 'mailers')!.member]]);

    // Typed: the handler gets what parse returned; parse refuses the bad entry.
    const [first] = await producer.queue(Products, { id: 1 } as Product);
    const [bad] = await producer.queue('products', { id: 'two' });
    await waitFor(() => watcher.of('committed').some(([lastId]) => lastId === bad));
    expect(handlers.indexed).toEqual([{ id: 1, checked: true }]);
    const reason = 'id must be a number, got "two"';
    // Both the consumer's and the group's rejections reach the method with two decorators.
    await waitFor(() => watcher.of('rejected').length === 2);
    expect(watcher.of('rejected')).toEqual([
      [[`"payload" failed validation: ${reason}`]],
      [[`"payload" failed validation: ${reason}`]],
    ]);
    expect(watcher.of('committed')).toContainEqual([first, 1]);
    // A group's `acked` (count, lastId) arrives as committed(lastId, count).
    await waitFor(() => watcher.of('group committed').length > 0);
    expect(watcher.of('group committed')).toEqual([[first, 1]]);
    // The group dead-lettered the refused entry (maxDeliveries defaults to 10): an operator can replay it.
    await waitFor(async () => (await app!.get(Redstream).deadLetters('products')).deadLetters.length === 1);

    handlers.failOnce = true;
    const [third] = await producer.queue(Products, { id: 3 } as Product);
    await waitFor(() => watcher.of('committed').some(([lastId]) => lastId === third));
    expect(watcher.of('failed')).toEqual([['index unavailable', 'number']]);

    // The delay messages come back once 200 ms old: the delayer commits them.
    await producer.delay(Products, { id: 4 } as Product);
    await waitFor(() => watcher.of('delayer committed').length > 0);
    expect(watcher.of('delayer committed')[0][1]).toBe(1);

    // The lock taken away: standby, then active again after the committed offset.
    await redis.del(app.get(Redstream).keys.lock(consumerLockName('products', 'indexer')));
    await waitFor(() => watcher.of('standby').length === 1 && watcher.of('active').length === 2, 10_000);
    expect(watcher.of('standby')[0][0]).toMatch(/^the lock was lost/);

    // Listeners stay across stop() and start().
    await registry.stop('products', 'indexer');
    registry.start('products', 'indexer');
    await waitFor(() => watcher.of('active').length === 3);
  });

  it('logs a listener that throws or rejects; the worker and the other listeners go on', async () => {
    @Injectable()
    class FaultyWatcher {
      committed = 0;

      @OnRedstreamEvent('committed', { stream: Products, name: 'indexer' })
      throws(): void {
        throw new Error('metrics down');
      }

      @OnRedstreamEvent('committed', { stream: Products, name: 'indexer' })
      async rejects(): Promise<void> {
        throw new Error('metrics still down');
      }

      @OnRedstreamEvent('committed', { stream: Products, name: 'indexer' })
      counts(): void {
        this.committed++;
      }
    }
    const logger = new RecordingLogger();
    app = await compileRedstreamApp({ providers: [ProductHandlers, FaultyWatcher], options: { logger } });
    await app.init();
    const producer = app.get(Producer);
    const watcher = app.get(FaultyWatcher);
    for (let id = 1; id <= 3; id++) {
      const [entry] = await producer.queue(Products, { id } as Product);
      await waitFor(async () => (await app!.get(Redstream).committedOffset('products', 'indexer')) === entry);
    }
    await waitFor(() => watcher.committed === 3);
    expect(app.get(ProductHandlers).indexed.map((product) => product.id)).toEqual([1, 2, 3]);
    await waitFor(
      () =>
        logger.matching('error', /@OnRedstreamEvent\('committed'\) on FaultyWatcher\.rejects threw: metrics still down/)
          .length > 0,
    );
    // Logged once, then at the 10th, 100th... time: a repeating event does not flood the log.
    expect(
      logger.matching(
        'error',
        /@OnRedstreamEvent\('committed'\) on FaultyWatcher\.throws threw: metrics down; the worker goes on$/,
      ),
    ).toHaveLength(1);
  });

  it('fails the bootstrap, naming class and method, for a listener that matches no handler or no event', async () => {
    @Injectable()
    class Orphan {
      @OnRedstreamEvent('failed', { stream: Products, name: 'cacher' })
      onFailed(): void {}
    }
    app = await compileRedstreamApp({ providers: [ProductHandlers, Orphan] });
    const failure = app.init();
    await expect(failure).rejects.toThrow(RedstreamConfigError);
    await expect(failure).rejects.toThrow(
      `@OnRedstreamEvent('failed') on Orphan.onFailed listens to "products:cacher", but no @RedstreamConsumer(), ` +
        `@RedstreamGroupConsumer() or @RedstreamDelayer() (name "delayer") of this application reads stream ` +
        `"products" as "cacher" (known: products:indexer, products:mailers, products:delayer).`,
    );
    app = undefined;

    @Injectable()
    class UnknownEvent {
      @OnRedstreamEvent('exploded' as 'failed', { stream: Products, name: 'indexer' })
      onExploded(): void {}
    }
    app = await compileRedstreamApp({ providers: [ProductHandlers, UnknownEvent] });
    await expect(app.init()).rejects.toThrow(
      `@OnRedstreamEvent('exploded') on UnknownEvent.onExploded: no such worker event; known: active, standby, failed, committed, rejected, deadLettered, stalled, recovered.`,
    );
    app = undefined;
  });

  it('accepts a listener of a disabled handler, or with background services off, and attaches nothing', async () => {
    @Injectable()
    class Disabled {
      @RedstreamConsumer({ stream: 'orders', name: 'audit', enabled: false })
      audit(): void {}

      @OnRedstreamEvent('active', { stream: 'orders', name: 'audit' })
      onActive(): void {}
    }
    app = await compileRedstreamApp({ providers: [Disabled] });
    await app.init();
    expect(app.get(RedstreamRegistry).getConsumer('orders', 'audit')).toBeUndefined();
    await app.close();

    app = await compileRedstreamApp({
      providers: [ProductHandlers, WorkerWatcher],
      options: { backgroundServices: false },
    });
    await app.init();
    expect(app.get(RedstreamRegistry).consumers()).toEqual([]);
    expect(app.get(WorkerWatcher).seen).toEqual([]);
  });
});
