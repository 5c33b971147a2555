import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import {
  Producer,
  RedstreamConsumer,
  RedstreamGroupConsumer,
  RedstreamMessage,
  RedstreamModuleOptions,
  RedstreamRegistry,
} from '../../lib';
import { waitFor } from '../support/test-redis';
import { compileRedstreamApp } from './nest-test-helpers';

type IdPayload = { id: number };
const POISON = 3;

@Injectable()
class Indexer {
  readonly indexed: number[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(messages: RedstreamMessage<IdPayload>[]): void {
    if (messages.some((message) => message.payload.id === POISON)) throw new Error(`cannot index ${POISON}`);
    this.indexed.push(...messages.map((message) => message.payload.id));
  }
}

describe('deadLetter of @RedstreamConsumer from the module options', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function runWith(options: RedstreamModuleOptions): Promise<void> {
    app = await compileRedstreamApp({ providers: [Indexer], options });
    await app.init();
    await app.get(Producer).queue(
      'products',
      [1, 2, 3, 4, 5].map((id) => ({ id })),
    );
    const registry = app.get(RedstreamRegistry);
    const page = await waitFor(async () => {
      const found = await registry.redstream.deadLetters('products');
      return found.deadLetters.length > 0 ? found : undefined;
    });
    expect(page.deadLetters.map((letter) => JSON.parse(letter.payload ?? '{}'))).toEqual([{ id: POISON }]);
    expect(page.deadLetters[0]).toMatchObject({ consumer: 'indexer', error: expect.stringContaining('cannot index') });
    await waitFor(() => app!.get(Indexer).indexed.length === 4);
    expect(app.get(Indexer).indexed).toEqual([1, 2, 4, 5]);
  }

  it('takes it from consumerDefaults', async () => {
    await runWith({ consumerDefaults: { deadLetter: { afterAttempts: 2 } } });
  });

  it("takes it from handlers['<stream>:<name>']", async () => {
    await runWith({ handlers: { 'products:indexer': { deadLetter: { afterAttempts: 2 } } } });
  });

  it('refuses it for a group consumer, and names the method when it is invalid', async () => {
    @Injectable()
    class Workers {
      @RedstreamGroupConsumer({ stream: 'products', group: 'workers' })
      work(): void {}
    }
    const refused = await compileRedstreamApp({
      providers: [Workers],
      options: { handlers: { 'products:workers': { deadLetter: { afterAttempts: 2 } } } },
    });
    await expect(refused.init()).rejects.toThrow(
      /handlers\["products:workers"\]\.deadLetter" is invalid: a group consumer has no deadLetter/,
    );
    const invalid = await compileRedstreamApp({
      providers: [Indexer],
      options: { handlers: { 'products:indexer': { deadLetter: { afterAttempts: 0 } } } },
    });
    await expect(invalid.init()).rejects.toThrow(
      /@RedstreamConsumer\(\) on Indexer\.index is invalid: .*afterAttempts/,
    );
  });
});
