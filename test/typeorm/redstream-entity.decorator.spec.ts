import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Column, DataSource, Entity, EntitySchema, PrimaryGeneratedColumn } from 'typeorm';
import {
  defineStream,
  Redstream,
  RedstreamConfigError,
  RedstreamPayload,
  RedstreamValidationError,
  silentLogger,
} from '../../lib/engine';
import {
  RedstreamChange,
  RedstreamEntity,
  redstreamEntityBinding,
  redstreamShards,
  redstreamStreamName,
  redstreamStreams,
  RedstreamSubscriber,
  registerRedstreamEntity,
  unregisterRedstreamEntity,
} from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';
import { streamPayloads } from './support/redstream-test-streams';

@RedstreamEntity()
@Entity()
class ProductVariant {
  @PrimaryGeneratedColumn()
  id!: number;
}

// Decorators apply bottom-up: here ours runs before @Entity has registered the table name.
@Entity({ name: 'warehouses' })
@RedstreamEntity()
class Warehouse {
  @PrimaryGeneratedColumn()
  id!: number;
}

const seen: { entity: object; change: RedstreamChange }[] = [];

@RedstreamEntity<Article>({
  stream: (article) => `articles-${article.locale}`,
  payload: (article, change): RedstreamPayload => {
    seen.push({ entity: article, change });
    return { id: change.id, slug: article.slug };
  },
})
@Entity('articles')
class Article {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  slug!: string;

  @Column()
  locale!: string;
}

/** A typed stream whose parse refuses an empty name. */
const Gadgets = defineStream('gadgets', {
  parse: (payload: unknown): { id: number; name: string } => {
    const { id, name } = payload as { id: number; name?: unknown };
    if (typeof name !== 'string' || name === '') throw new TypeError('name must not be empty');
    return { id, name };
  },
});

@RedstreamEntity({
  stream: Gadgets,
  payload: (gadget: Gadget, change) => ({ id: Number(change.id), name: gadget.name }),
})
@Entity('gadgets')
class Gadget {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  name!: string;
}

interface Tag {
  id: number;
  label: string;
}
const TagSchema = new EntitySchema<Tag>({
  name: 'Tag',
  tableName: 'tags',
  columns: { id: { type: Number, primary: true, generated: true }, label: { type: String } },
});

describe('@RedstreamEntity and its registry', () => {
  it('defaults the stream to the table name, as the default naming strategy derives it', () => {
    expect(redstreamStreamName(ProductVariant)).toBe('product_variant');
    expect(redstreamStreamName(Warehouse)).toBe('warehouses');
  });

  it('lists streams only where they can be listed', () => {
    expect(() => redstreamStreams(Article)).toThrow(/computes its stream with a function/);
    class Plain {}
    expect(() => redstreamStreams(Plain)).toThrow(/not a @RedstreamEntity/);
    expect(redstreamEntityBinding(Plain)).toBeUndefined();

    class Sharded {}
    registerRedstreamEntity(Sharded, { stream: redstreamShards('sharded', 3) });
    expect(redstreamStreams(Sharded)).toEqual(['sharded-0', 'sharded-1', 'sharded-2']);
    expect(() => redstreamStreamName(Sharded)).toThrow(/3 shard streams/);
    unregisterRedstreamEntity(Sharded);
    expect(redstreamEntityBinding(Sharded)).toBeUndefined();
  });

  it('rejects registrations that cannot work', () => {
    expect(() => registerRedstreamEntity('Tag')).toThrow(RedstreamConfigError);
    class Bad {}
    expect(() => registerRedstreamEntity(Bad, { stream: 'has space' })).toThrow(RedstreamConfigError);
    expect(() => registerRedstreamEntity(Bad, { stream: 'products.delay' })).toThrow(RedstreamConfigError);
  });

  describe('with a DataSource', () => {
    let dataSource: DataSource;
    let redstream: Redstream;
    let subscriber: RedstreamSubscriber;

    beforeAll(async () => {
      registerRedstreamEntity('Tag', { stream: 'tags' });
      dataSource = await new DataSource({
        type: 'sqljs',
        entities: [ProductVariant, Warehouse, Article, Gadget, TagSchema],
        synchronize: true,
      }).initialize();
    });
    afterAll(async () => {
      unregisterRedstreamEntity('Tag');
      await dataSource.destroy();
    });
    beforeEach(() => {
      redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('entity'), logger: silentLogger });
      subscriber = new RedstreamSubscriber(redstream.producer()).attach(dataSource);
      seen.length = 0;
    });
    afterEach(async () => {
      subscriber.detach(dataSource);
      await redstream.close();
    });

    it('uses the stream and payload functions, with the loaded row on remove', async () => {
      const articles = dataSource.getRepository(Article);
      const article = await articles.save({ slug: 'hello', locale: 'de' });
      const id = article.id;
      await articles.remove(article);
      expect(article.id).toBeUndefined(); // TypeORM strips it; the subscriber uses the loaded row
      expect(await streamPayloads(redstream, 'articles-de')).toEqual([
        { id, slug: 'hello' },
        { id, slug: 'hello' },
      ]);
      expect(seen.map(({ change }) => change)).toEqual([
        { id, idMap: { id }, kind: 'insert' },
        { id, idMap: { id }, kind: 'remove' },
      ]);
      expect(seen[1].entity).toMatchObject({ slug: 'hello', locale: 'de' });
    });

    it('writes to a typed stream, and fails a write whose payload its parse refuses before anything is written', async () => {
      expect(redstreamStreamName(Gadget)).toBe('gadgets');
      const gadgets = dataSource.getRepository(Gadget);
      const saved = await gadgets.save({ name: 'lamp' });
      expect(await streamPayloads(redstream, 'gadgets')).toEqual([{ id: saved.id, name: 'lamp' }]);

      const failure = gadgets.save({ name: '' });
      await expect(failure).rejects.toThrow(RedstreamValidationError);
      await expect(failure).rejects.toThrow(
        `@RedstreamEntity on Entity Gadget: the payload failed the stream's parse: name must not be empty; nothing was written`,
      );
      // The transaction rolled back, and no message (delay or immediate) was written.
      expect(await gadgets.count()).toBe(1);
      expect(await redstream.delayStreamLength('gadgets')).toBe(1);
      expect(await streamPayloads(redstream, 'gadgets')).toHaveLength(1);
    });

    it('covers EntitySchema entities registered by name', async () => {
      const tag = await dataSource.getRepository(TagSchema).save({ label: 'new' });
      expect(await streamPayloads(redstream, 'tags')).toEqual([{ id: tag.id }]);
    });

    it('is attached only to an initialized DataSource, once', () => {
      const fresh = new DataSource({ type: 'sqljs', entities: [] });
      expect(() => new RedstreamSubscriber(redstream.producer()).attach(fresh)).toThrow(/initialize the DataSource/);
      subscriber.attach(dataSource);
      expect(dataSource.subscribers.filter((entry) => entry === subscriber)).toHaveLength(1);
    });
  });
});

describe('the package entry points', () => {
  it('load typeorm only through the ./typeorm entry, so that it stays an optional peer dependency', () => {
    const root = join(__dirname, '..', '..');
    const loadsTypeorm = (entry: string): string =>
      spawnSync(
        process.execPath,
        [
          '--require',
          join(root, 'test/support/ts-register.js'),
          '-e',
          `require(${JSON.stringify(join(root, entry))});
           process.stdout.write(String(Object.keys(require.cache).some((file) => file.includes('/node_modules/typeorm/'))));`,
        ],
        { cwd: root, encoding: 'utf8' },
      ).stdout;
    expect(loadsTypeorm('lib/index.ts')).toBe('false');
    expect(loadsTypeorm('lib/typeorm/index.ts')).toBe('true');
  });
});
