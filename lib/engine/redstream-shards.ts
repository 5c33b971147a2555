import { createHash } from 'node:crypto';
import type { Consumer } from './consumer';
import type { Delayer } from './delayer';
import { RedstreamConfigError } from './errors';
import type { ConsumerOptions } from './interfaces/consumer-options.interface';
import type { DelayerOptions } from './interfaces/delayer-options.interface';
import type { RedstreamPayload } from './interfaces/redstream-message.interface';
import type { TrimmerOptions } from './interfaces/trimmer-options.interface';
import type { Redstream } from './redstream';
import { DELAYER_CONSUMER_NAME, validateStreamName } from './redstream-keys';
import { shardConsumerInDelayerGroup } from './shard-group.messages';
import type { Trimmer } from './trimmer';

/**
 * A stream split into `count` shard streams named `<base>-0` … `<base>-<count-1>`, with the
 * gem README's shard function: the first 4 hex digits of the SHA-1 of the primary key as a
 * string, modulo `count`. Every change of one record therefore goes to the same shard, in
 * order, and a Ruby application sharding the same way picks the same shard for the same id.
 *
 * Use it as an entity's `stream` (`@redstream/nestjs/typeorm`), to pick a shard's stream when
 * producing, and to set up the workers of every shard from one place. It needs neither Nest nor
 * TypeORM (`@redstream/nestjs/engine`, re-exported by the root and `/typeorm` entries).
 *
 * @example
 * ```ts
 * export const PRODUCT_SHARDS = redstreamShards('products', 4);
 *
 * @RedstreamEntity({ stream: PRODUCT_SHARDS })
 * @Entity('products')
 * export class Product { ... }
 *
 * // without Nest: a consumer and a delayer per shard, and their trimmers
 * const workers = [
 *   ...PRODUCT_SHARDS.consumers(redstream, { name: 'indexer', handler: index }),
 *   ...PRODUCT_SHARDS.delayers(redstream, { delay: '5m' }),
 *   ...PRODUCT_SHARDS.trimmers(redstream, { interval: 30_000 }),
 * ];
 * workers.forEach((worker) => worker.start());
 * ```
 */
export class RedstreamShards {
  /** Every shard's stream name, in shard order. */
  readonly streams: readonly string[];

  constructor(
    readonly base: string,
    readonly count: number,
  ) {
    if (!Number.isInteger(count) || count < 1 || count > 65_536) {
      throw new RedstreamConfigError(
        `Shard count of "${base}" must be an integer from 1 to 65536 (the shard function reads 16 bits), got ${count}`,
      );
    }
    this.streams = Array.from({ length: count }, (_, shard) => validateStreamName(`${base}-${shard}`));
  }

  /** The shard (0 … count-1) of a primary key: a value, or an object of a composite key's columns. */
  shardOf(id: unknown): number {
    const digest = createHash('sha1').update(rubyToString(id)).digest('hex');
    return parseInt(digest.slice(0, 4), 16) % this.count;
  }

  /** The stream of a primary key's shard. */
  streamOf(id: unknown): string {
    return this.streams[this.shardOf(id)];
  }

  /**
   * A consumer per shard stream, all with the same name and options. Call `start()` on each.
   * They form the shard group `<base>:<name>` (unless `shardGroup` says otherwise, or `false`):
   * the instances running them spread the shards' locks evenly.
   */
  consumers<TPayload extends object = RedstreamPayload>(
    redstream: Redstream,
    options: Omit<ConsumerOptions<TPayload>, 'stream'>,
  ): Consumer<TPayload>[] {
    const shardGroup = this.consumerGroup(options.name, options.shardGroup);
    return this.streams.map((stream) => redstream.consumer<TPayload>({ ...options, shardGroup, stream }));
  }

  /** A delayer per shard stream, in the shard group `<base>:delayer` (see `consumers`). Call `start()` on each. */
  delayers(redstream: Redstream, options: Omit<DelayerOptions, 'stream'>): Delayer[] {
    const shardGroup = this.delayerGroup(options.shardGroup);
    return this.streams.map((stream) => redstream.delayer({ ...options, shardGroup, stream }));
  }

  /**
   * The shard group of the consumers named `name`: `<base>:<name>`, or the one given (`false`:
   * none). Throws RedstreamConfigError for consumers named `delayer` without one given: their
   * default group would be the delayers' (`<base>:delayer`), and a group balances one kind.
   */
  consumerGroup(name: string, given?: string | false): string | false {
    // A consumer named `delayer` would join the delayers' group: the share would count both kinds.
    if (given === undefined && name === DELAYER_CONSUMER_NAME) {
      throw new RedstreamConfigError(shardConsumerInDelayerGroup(this.base, name, this.delayerGroup() as string));
    }
    return given ?? `${this.base}:${name}`;
  }

  /** The shard group of the delayers: `<base>:delayer`, or the one given (`false`: none). */
  delayerGroup(given?: string | false): string | false {
    return given ?? `${this.base}:delayer`;
  }

  /** A trimmer per shard stream. Call `start()` on each. */
  trimmers(redstream: Redstream, options: Omit<TrimmerOptions, 'stream'> = {}): Trimmer[] {
    return this.streams.map((stream) => redstream.trimmer({ ...options, stream }));
  }
}

/** A {@link RedstreamShards} of `count` streams `<base>-0` … `<base>-<count-1>`. */
export function redstreamShards(base: string, count: number): RedstreamShards {
  return new RedstreamShards(base, count);
}

// The gem hashes `id.to_s`. For a composite key (Rails 7.1 ids are arrays) Ruby prints
// `[1, "a"]`; the key columns' values are taken in their declared order.
function rubyToString(id: unknown): string {
  if (id === null || id === undefined) {
    throw new RedstreamConfigError('Cannot pick a shard for a record without a primary key');
  }
  if (Array.isArray(id)) return `[${id.map(rubyInspect).join(', ')}]`;
  if (typeof id === 'object' && !(id instanceof Date)) return rubyToString(Object.values(id));
  return id instanceof Date ? id.toISOString() : String(id);
}

function rubyInspect(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : rubyToString(value);
}
