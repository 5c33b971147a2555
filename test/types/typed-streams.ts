// Compile-time tests of typed streams, checked by `npm run typecheck` (never run). Each
// `@ts-expect-error` must stay an error: an unused one is itself an error (TS2578), so a
// change that lets a wrong payload through fails the type check.
import { Injectable } from '@nestjs/common';
import {
  defineStream,
  OnRedstreamEvent,
  Producer,
  Redstream,
  RedstreamConsumer,
  RedstreamRegistry,
  RedstreamDelayer,
  RedstreamGroupConsumer,
  RedstreamMessage,
  StreamPayload,
  WorkerStall,
} from '../../lib';
import { RedstreamEntity } from '../../lib/typeorm';

export const Products = defineStream<{ id: number }>('products');
export const Orders = defineStream('orders', {
  parse: (payload: unknown): { orderId: string; total: number } => {
    const { orderId, total } = payload as { orderId?: unknown; total?: unknown };
    if (typeof orderId !== 'string' || typeof total !== 'number') throw new Error('not an order');
    return { orderId, total };
  },
});

// The payload type comes from `parse` when it is not written out.
export const orderPayload: StreamPayload<typeof Orders> = { orderId: 'o-1', total: 12 };

export async function producerCalls(producer: Producer): Promise<void> {
  await producer.queue(Products, { id: 1 });
  await producer.queue(Products, [{ id: 1 }, { id: 2 }], { delayMessageIds: [] });
  await producer.delay(Products, { id: 1 });
  await producer.queueAfterDelay(Products, [{ id: 1 }], []);
  const updated: number = await producer.bulk(Products, [{ id: 1 }], () => 1);
  await producer.queue(Orders, { orderId: 'o-1', total: 3 });
  // Streams by name take any object payload, as before.
  await producer.queue('products', { id: 'anything' });
  void updated;

  // @ts-expect-error: wrong field type
  await producer.queue(Products, { id: '1' });
  // @ts-expect-error: missing field
  await producer.queue(Products, {});
  // @ts-expect-error: wrong payload (another stream's)
  await producer.queue(Products, { orderId: 'o-1', total: 3 });
  // @ts-expect-error: a field the contract does not have
  await producer.queue(Products, { id: 1, name: 'oak' });
  // @ts-expect-error: wrong field type in an array
  await producer.queue(Products, [{ id: 1 }, { id: '2' }]);
  // @ts-expect-error: wrong field type
  await producer.delay(Products, { id: '1' });
  // @ts-expect-error: missing field
  await producer.queueAfterDelay(Products, [{}], []);
  // @ts-expect-error: wrong field type
  await producer.bulk(Products, [{ id: '1' }], () => 1);
  // @ts-expect-error: wrong field type, from parse's return type
  await producer.queue(Orders, { orderId: 'o-1', total: '3' });
}

export function engineWorkers(redstream: Redstream): void {
  redstream.consumer({
    stream: Products,
    name: 'indexer',
    handler: (messages) => messages.map((message) => message.payload.id.toFixed()),
  });
  redstream.groupConsumer({
    stream: Orders,
    group: 'billing',
    handler: (messages) => messages.map((message) => message.payload.orderId.toUpperCase()),
  });
  redstream.delayer({ stream: Products, delay: '5m' });

  redstream.consumer({
    stream: Products,
    name: 'indexer',
    // @ts-expect-error: the contract's id is a number
    handler: (messages) => messages.map((message) => message.payload.id.toUpperCase()),
  });
  redstream.consumer({
    // @ts-expect-error: the handler is declared for another payload type than the contract's
    stream: Products,
    name: 'indexer',
    handler: (messages: RedstreamMessage<{ id: string }>[]) => messages,
  });
  redstream.groupConsumer({
    stream: Orders,
    group: 'billing',
    // @ts-expect-error: no such field in the contract
    handler: (messages) => messages.map((message) => message.payload.id),
  });
}

export function registryLookups(registry: RedstreamRegistry): void {
  const consumer = registry.getConsumer(Products, 'indexer');
  const payloadId: number | undefined = consumer?.stream === 'products' ? 1 : undefined;
  registry.getGroupConsumer(Orders, 'billing');
  registry.getDelayer(Products);
  void payloadId;
  // @ts-expect-error: the consumer of a { id: number } stream is not one of { id: string }
  const wrong: ReturnType<typeof registry.getConsumer<{ id: string }>> = registry.getConsumer(Products, 'indexer');
  void wrong;
}

@Injectable()
export class TypedHandlers {
  @RedstreamConsumer({ stream: Products, name: 'indexer' })
  index(messages: RedstreamMessage<{ id: number }>[]): number[] {
    return messages.map((message) => message.payload.id);
  }

  // A wider type than the contract's is fine: the method accepts every payload of the stream.
  @RedstreamConsumer({ stream: Products, name: 'logger' })
  log(messages: RedstreamMessage<object>[]): number {
    return messages.length;
  }

  @RedstreamGroupConsumer({ stream: Orders, group: 'billing' })
  bill(messages: RedstreamMessage<{ orderId: string; total: number }>[]): void {
    void messages;
  }

  @RedstreamDelayer({ stream: Products, delay: '5m' })
  due(messages: RedstreamMessage[]): void {
    void messages;
  }

  // Streams by name: any payload type, as before.
  @RedstreamConsumer({ stream: 'legacy', name: 'indexer' })
  legacy(messages: RedstreamMessage<{ sku: string }>[]): void {
    void messages;
  }

  // @ts-expect-error: wrong field type
  @RedstreamConsumer({ stream: Products, name: 'cacher' })
  cache(messages: RedstreamMessage<{ id: string }>[]): void {
    void messages;
  }

  // @ts-expect-error: a field the stream's payloads do not have
  @RedstreamGroupConsumer({ stream: Orders, group: 'mailer' })
  mail(messages: RedstreamMessage<{ orderId: string; email: string }>[]): void {
    void messages;
  }

  @OnRedstreamEvent('failed', { stream: Products, name: 'indexer' })
  onFailed(error: Error, retryInMs: number): void {
    void error;
    void retryInMs;
  }

  @OnRedstreamEvent('committed', { stream: 'legacy', name: 'indexer' })
  onCommitted(lastId: string, count: number): void {
    void lastId;
    void count;
  }

  @OnRedstreamEvent('stalled', { stream: Products, name: 'indexer' })
  onStalled(stall: WorkerStall): void {
    void stall;
  }

  // @ts-expect-error: 'failed' passes an Error first
  @OnRedstreamEvent('failed', { stream: Products, name: 'indexer' })
  onFailedWrongly(count: number): void {
    void count;
  }

  // @ts-expect-error: no such event
  @OnRedstreamEvent('exploded', { stream: Products, name: 'indexer' })
  onExploded(): void {}
}

@RedstreamEntity({ stream: Products, payload: (_product: Product, change) => ({ id: Number(change.id) }) })
export class Product {
  id!: number;
}

// @ts-expect-error: the payload function returns another type than the stream's
@RedstreamEntity({ stream: Products, payload: (_product: object, change) => ({ id: String(change.id) }) })
export class WrongProduct {
  id!: number;
}
