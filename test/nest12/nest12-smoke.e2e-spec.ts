import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Producer, Redstream, RedstreamConsumer, RedstreamMessage, RedstreamModule } from '../../lib';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// Run by jest.nest12.config.js only (the name keeps it out of `npm test`): the library's own
// sources with every `@nestjs/*` resolved to NestJS 12. Until test/nest/ covers a module the
// same way, this is the proof that the Nest layer boots and consumes on NestJS 12 under Jest.

function installedMajor(packageName: string): number {
  const manifest = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), 'utf8')) as {
    version: string;
  };
  return Number(manifest.version.split('.')[0]);
}

@Injectable()
class ProductIndexer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer', blockMs: 500, lockTtlMs: 1_000, lockRefreshMs: 300 })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

describe('NestJS 12 under Jest', () => {
  it('resolves NestJS 12 for the tests and for the library', () => {
    expect(installedMajor('@nestjs/common')).toBe(12);
    expect(installedMajor('@nestjs/core')).toBe(12);
    expect(installedMajor('@nestjs/testing')).toBe(12);
    // lib/ got its @nestjs/core from the same mapping, or this class would be another copy.
    expect(Reflect.getMetadata('imports', RedstreamModule)).toContain(DiscoveryModule);
  });

  it('boots RedstreamModule and a decorated consumer receives a produced message', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedstreamModule.forRoot({ redis: testRedisUrl(), namespace: uniqueNamespace('nest12'), logger: false }),
      ],
      providers: [ProductIndexer],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const indexer = app.get(ProductIndexer);
      await app.get(Producer).queue('products', { id: 7 });
      await waitFor(() => indexer.received.length === 1);
      expect(indexer.received[0].payload).toEqual({ id: 7 });
      const redstream = app.get(Redstream);
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === indexer.received[0].id);
    } finally {
      await app.close();
    }
  });
});
