import { Controller, INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Producer, Redstream, RedstreamMessage } from '../../lib/engine';
import { RedstreamEventContext, RedstreamClient, RedstreamServer } from '../../lib/microservices';
import { RedstreamConsumer, RedstreamModule } from '../../lib/nest';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { FAST_WORKERS } from './microservices-test-helpers';

describe('RedstreamServer in a hybrid application, beside RedstreamModule', () => {
  let namespace: string;
  let app: INestApplication | undefined;
  let client: RedstreamClient;

  beforeEach(() => {
    namespace = uniqueNamespace('hybrid');
    client = new RedstreamClient({ redis: testRedisUrl(), namespace, logger: false });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await client.close();
  });

  it('serves @EventPattern handlers and @RedstreamConsumer methods on the same stream, from the client and the Producer', async () => {
    const events: { n: unknown; id: string }[] = [];
    const batches: string[][] = [];

    @Controller()
    class BillingController {
      @EventPattern('products')
      bill(@Payload() data: { n: unknown }, @Ctx() context: RedstreamEventContext): void {
        events.push({ n: data.n, id: context.getId() });
      }
    }

    @Injectable()
    class Indexer {
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      index(messages: RedstreamMessage<{ n: unknown }>[]): void {
        batches.push(messages.map((message) => message.id));
      }
    }

    @Module({
      imports: [
        RedstreamModule.forRoot({
          redis: testRedisUrl(),
          namespace,
          logger: false,
          trimmer: false,
          consumerDefaults: FAST_WORKERS,
        }),
      ],
      controllers: [BillingController],
      providers: [Indexer],
    })
    class AppModule {}

    const hybrid = await NestFactory.create(AppModule, { logger: false });
    app = hybrid;
    const server = new RedstreamServer({
      redis: testRedisUrl(),
      namespace,
      logger: false,
      consumer: 'billing',
      consumerOptions: FAST_WORKERS,
    });
    hybrid.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    await hybrid.startAllMicroservices();
    await hybrid.init();

    const ids = [await lastValueFrom(client.emit('products', { n: 1 }))];
    // The module's Producer writes the same entries: a TypeORM change reaches @EventPattern too.
    ids.push(...(await hybrid.get(Producer).queue('products', [{ n: 2 }, { n: 3 }])));

    await waitFor(() => events.length >= 3 && batches.flat().length >= 3);
    expect(events).toEqual([
      { n: 1, id: ids[0] },
      { n: 2, id: ids[1] },
      { n: 3, id: ids[2] },
    ]);
    expect(batches.flat()).toEqual(ids);
    const engine = hybrid.get(Redstream);
    await waitFor(async () => (await engine.committedOffset('products', 'billing')) === ids[2]);
    expect(await engine.registeredConsumers('products')).toEqual(['billing', 'indexer']);

    await hybrid.close();
    app = undefined;
    // Both the module's engine and the transport's own are closed.
    await waitFor(() => engine.client.status === 'end' && server.unwrap<Redstream>().client.status === 'end');
  });
});
