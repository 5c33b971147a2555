import {
  And,
  Equal,
  FindOperator,
  FindOptionsOrder,
  FindOptionsSelect,
  FindOptionsWhere,
  MoreThan,
  ObjectLiteral,
  Repository,
} from 'typeorm';
import { Producer, RedstreamConfigError, RedstreamPayload } from '../engine';
import { runInsideRedstreamBulk } from './redstream-bulk.context';
import { redstreamEntityBinding, RedstreamEntityBinding } from './redstream-entity.decorator';

/** Options of {@link redstreamBulk}. */
export interface RedstreamBulkOptions {
  /** Records loaded, messaged and written per round. Default 1000 (the gem's `find_in_batches`). */
  batchSize?: number;
}

/**
 * The gem's `find_in_batches` + `Producer#bulk` for writes that bypass the subscriber
 * (`repository.update(criteria, ...)`, `delete(criteria)`, QueryBuilder writes): loads the
 * records matching `where` in batches in primary key order, and for every batch writes their
 * delay messages, awaits `write(batch)`, then writes their immediate messages (deleting the
 * delay messages if the Producer is configured to). Resolves with the number of records.
 *
 * Make `write` touch exactly the batch's records (by primary key), so that the messages name
 * every changed record. If `write` throws, no immediate message of that batch is written, its
 * delay messages stay for the Delayer, and the error propagates; if a delay message cannot be
 * written, `write` is not called.
 *
 * @example
 * ```ts
 * await redstreamBulk(producer, products, { onStock: true }, (batch) =>
 *   products.update({ id: In(batch.map((product) => product.id)) }, { featured: true }),
 * );
 * ```
 */
export async function redstreamBulk<TEntity extends ObjectLiteral>(
  producer: Producer,
  repository: Repository<TEntity>,
  where: FindOptionsWhere<TEntity> | FindOptionsWhere<TEntity>[],
  write: (batch: TEntity[]) => unknown,
  options: RedstreamBulkOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RedstreamConfigError(`redstreamBulk: batchSize must be a positive integer, got ${batchSize}`);
  }
  let total = 0;
  for await (const batch of batchesOf(repository, where, batchSize)) {
    await redstreamBulkEntities(producer, repository, batch, write);
    total += batch.length;
  }
  return total;
}

/**
 * The gem's `Producer#bulk(records)` for entities you already loaded: delay messages for
 * `entities`, `await write(entities)`, then their immediate messages. Resolves with what
 * `write` returned.
 */
export async function redstreamBulkEntities<TEntity extends ObjectLiteral, TResult>(
  producer: Producer,
  repository: Repository<TEntity>,
  entities: readonly TEntity[],
  write: (entities: TEntity[]) => TResult | Promise<TResult>,
): Promise<TResult> {
  const binding = bindingOf(repository);
  const byStream = new Map<string, RedstreamPayload[]>();
  for (const entity of entities) {
    const idMap = repository.metadata.getEntityIdMap(entity);
    if (!idMap) {
      throw new RedstreamConfigError(`redstreamBulk: a ${repository.metadata.name} without its primary key was passed`);
    }
    const id = repository.metadata.hasMultiplePrimaryKeys
      ? idMap
      : repository.metadata.primaryColumns[0].getEntityValue(idMap);
    const change = { id, idMap, kind: 'update' as const };
    const stream = binding.streamOf(entity, change);
    const payloads = byStream.get(stream) ?? [];
    payloads.push(binding.payloadOf(entity, change));
    byStream.set(stream, payloads);
  }
  const streams = [...byStream];
  const delayIds = await Promise.all(streams.map(([stream, payloads]) => producer.delay(stream, payloads)));
  const result = await runInsideRedstreamBulk(() => write([...entities]));
  await Promise.all(
    streams.map(([stream, payloads], index) => producer.queueAfterDelay(stream, payloads, delayIds[index])),
  );
  return result;
}

function bindingOf(repository: Repository<ObjectLiteral>): RedstreamEntityBinding {
  const binding = redstreamEntityBinding(repository.metadata.target);
  if (!binding) {
    throw new RedstreamConfigError(`redstreamBulk: ${repository.metadata.name} is not a @RedstreamEntity`);
  }
  return binding;
}

// A single-column key pages by "key > last" (rows the write changes cannot shift the pages);
// a composite key reads all matching keys first, then loads the records batch by batch.
async function* batchesOf<TEntity extends ObjectLiteral>(
  repository: Repository<TEntity>,
  where: FindOptionsWhere<TEntity> | FindOptionsWhere<TEntity>[],
  batchSize: number,
): AsyncGenerator<TEntity[]> {
  const metadata = repository.metadata;
  const [primary, ...others] = metadata.primaryColumns;
  const wheres = Array.isArray(where) ? where : [where];
  if (others.length === 0 && !primary.embeddedMetadata && !primary.relationMetadata) {
    const key = primary.propertyName;
    let last: unknown;
    for (;;) {
      const page = wheres.map((clause) => (last === undefined ? clause : after(clause, key, last)));
      const batch = await repository.find({
        where: page as FindOptionsWhere<TEntity>[],
        order: { [key]: 'ASC' } as FindOptionsOrder<TEntity>,
        take: batchSize,
      });
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < batchSize) return;
      last = batch[batch.length - 1][key];
    }
  }
  const keys = await repository.find({
    where,
    select: Object.fromEntries(
      metadata.primaryColumns.map((column) => [column.propertyName, true]),
    ) as FindOptionsSelect<TEntity>,
  });
  for (let start = 0; start < keys.length; start += batchSize) {
    const ids = keys.slice(start, start + batchSize).map((entity) => metadata.getEntityIdMap(entity));
    yield await repository.findBy(ids as FindOptionsWhere<TEntity>[]);
  }
}

function after(clause: ObjectLiteral, key: string, last: unknown): ObjectLiteral {
  const existing: unknown = clause[key];
  const keyset = MoreThan(last);
  return {
    ...clause,
    [key]: existing === undefined ? keyset : And(asOperator(existing), keyset),
  };
}

function asOperator(value: unknown): FindOperator<unknown> {
  return value instanceof FindOperator ? value : Equal(value);
}
