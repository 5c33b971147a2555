import { Controller, Module, Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedstreamEventContext } from '../../lib/microservices';

export { FAST_WORKERS } from '../support/fast-workers';

/** One call of an `@EventPattern('products')` handler. */
export interface HandledEvent {
  data: Record<string, unknown>;
  id: string;
  pattern: string;
}

/** What a handler does with an event: resolve (handled) or throw (the batch is retried). */
export type EventBehaviour = (event: HandledEvent) => unknown;

/**
 * A module whose controller handles `@EventPattern('products')` by recording each call in
 * `calls` and then running `behaviour`.
 */
export function productsModule(calls: HandledEvent[], behaviour: EventBehaviour = () => undefined): Type {
  @Controller()
  class ProductsController {
    @EventPattern('products')
    async handle(@Payload() data: Record<string, unknown>, @Ctx() context: RedstreamEventContext): Promise<void> {
      const event = { data, id: context.getId(), pattern: context.getPattern() };
      calls.push(event);
      await behaviour(event);
    }
  }

  @Module({ controllers: [ProductsController] })
  class ProductsModule {}

  return ProductsModule;
}

/** Ids in stream order: `<ms>-<seq>` compared as numbers. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
