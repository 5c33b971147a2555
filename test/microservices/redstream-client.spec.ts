import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Redstream } from '../../lib/engine';
import { RedstreamClient } from '../../lib/microservices';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('RedstreamClient', () => {
  let namespace: string;
  let admin: Redstream;

  beforeEach(() => {
    namespace = uniqueNamespace('client');
    admin = new Redstream({ redis: testRedisUrl(), namespace, logger: false });
  });

  afterEach(() => admin.close());

  async function entries(stream: string): Promise<[string, string[]][]> {
    return (await admin.client.xrange(admin.keys.stream(stream), '-', '+')) as [string, string[]][];
  }

  it("emit() writes the data as the entry's payload, in the gem's format, and emits the entry id", async () => {
    const client = new RedstreamClient({ redis: testRedisUrl(), namespace, logger: false });
    try {
      const id = await lastValueFrom(client.emit('products', { id: 42, name: 'chair' }));
      expect(await entries('products')).toEqual([[id, ['payload', '{"id":42,"name":"chair"}']]]);
    } finally {
      await client.close();
    }
  });

  it('send() errors at once without writing; emit() rejects data that is not a JSON object, and bad stream names', async () => {
    const client = new RedstreamClient({ redis: testRedisUrl(), namespace, logger: false });
    try {
      await expect(lastValueFrom(client.send('products', { id: 1 }))).rejects.toThrow(
        /RedstreamClient: send\(products\) is not supported: a stream is a log/,
      );
      await expect(lastValueFrom(client.emit('products', [{ id: 1 }, { id: 2 }]))).rejects.toThrow(
        /emit\(products\) needs a JSON object as data .*got an array/,
      );
      await expect(lastValueFrom(client.emit('products', 'chair'))).rejects.toThrow(/got string/);
      await expect(lastValueFrom(client.emit('products', { price: BigInt(1) }))).rejects.toThrow(/price/);
      await expect(lastValueFrom(client.emit('products.delay', { id: 1 }))).rejects.toThrow(/must not end with/);
      expect(await admin.client.exists(admin.keys.stream('products'))).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('close() is idempotent, and a later emit() connects again', async () => {
    const client = new RedstreamClient({ redis: testRedisUrl(), namespace, logger: false });
    expect(() => client.unwrap()).toThrow(/not connected/);
    await lastValueFrom(client.emit('products', { id: 1 }));
    const first = client.unwrap<Redstream>();
    await Promise.all([client.close(), client.close()]);
    await client.close();
    await waitFor(() => first.connections.producerClient().status === 'end');
    expect(() => client.unwrap()).toThrow(/not connected/);

    await lastValueFrom(client.emit('products', { id: 2 }));
    expect(client.unwrap()).not.toBe(first);
    expect((await entries('products')).map(([, fields]) => fields[1])).toEqual(['{"id":1}', '{"id":2}']);
    await client.close();
  });

  it('works from ClientsModule (customClass) and is closed with the application', async () => {
    @Module({
      imports: [
        ClientsModule.register([
          {
            name: 'EVENTS',
            customClass: RedstreamClient,
            options: { redis: testRedisUrl(), namespace, logger: false },
          },
        ]),
      ],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const client = app.get<RedstreamClient>('EVENTS');
    expect(client).toBeInstanceOf(RedstreamClient);
    await lastValueFrom(client.emit('orders', { id: 7 }));
    const engine = client.unwrap<Redstream>();
    await app.close();
    await waitFor(() => engine.connections.producerClient().status === 'end');
    expect(await entries('orders')).toHaveLength(1);
  });
});
