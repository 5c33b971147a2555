import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Producer, RedstreamConsumer, RedstreamModule, RedstreamRegistry } from '../../lib';

// README's "Testing your consumers" recipe for unit tests: the Producer replaced by a fake,
// with no Redis at all. The module connects lazily and is given an address nothing listens
// on, so a write that reached the real Producer would fail the test instead of passing.

@Injectable()
class ProductService {
  constructor(private readonly producer: Producer) {}

  async save(id: number): Promise<void> {
    await this.producer.queue('products', { id });
  }
}

@Injectable()
class ProductIndexer {
  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(): void {}
}

const NOBODY_LISTENS = 'redis://127.0.0.1:1';

describe('overriding the Producer in a unit test', () => {
  it('injects the fake wherever the Producer is injected, and nothing touches Redis', async () => {
    const queued: unknown[] = [];
    const fakeProducer = {
      queue: async (stream: string, payload: object) => {
        queued.push({ stream, payload });
        return ['1-0'];
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [RedstreamModule.forRoot({ redis: NOBODY_LISTENS, backgroundServices: false, logger: false })],
      providers: [ProductService, ProductIndexer],
    })
      .overrideProvider(Producer)
      .useValue(fakeProducer)
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await app.get(ProductService).save(7);
      expect(queued).toEqual([{ stream: 'products', payload: { id: 7 } }]);
      expect(app.get(Producer)).toBe(fakeProducer);
      // backgroundServices: false: the decorated consumer is checked, but nothing runs.
      expect(app.get(RedstreamRegistry).consumers()).toEqual([]);
    } finally {
      await app.close();
    }
  }, 15_000);
});
