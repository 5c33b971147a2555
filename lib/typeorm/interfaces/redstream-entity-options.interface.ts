import type { RedstreamPayload, StreamDefinition } from '../../engine';
import type { RedstreamShards } from '../../engine/redstream-shards';

/** Which write produced a message. */
export type RedstreamChangeKind = 'insert' | 'update' | 'remove' | 'soft-remove' | 'recover';

/** What the subscriber knows about one changed record, handed to `stream` and `payload` functions. */
export interface RedstreamChange {
  /**
   * The primary key: the value for a single-column key (`42`), an object of the key columns
   * for a composite key (`{ tenantId: 1, orderId: 7 }`).
   */
  readonly id: unknown;
  /** The primary key as an object of property names to values, whatever the number of columns. */
  readonly idMap: Readonly<Record<string, unknown>>;
  readonly kind: RedstreamChangeKind;
}

/**
 * How an entity's changes become messages. Every option has a default, so
 * `@RedstreamEntity()` alone is enough.
 *
 * `stream` and `payload` receive the entity as TypeORM reports it after the write (for a
 * remove: as loaded before it), and are declared as methods so that a function typed with
 * your entity class (`(product: Product) => ...`) fits.
 */
export interface RedstreamEntityOptions<TEntity extends object = object, TPayload extends object = RedstreamPayload> {
  /**
   * The stream the entity's messages go to:
   * - a name (`'products'`);
   * - a {@link RedstreamShards} (`redstreamShards('products', 4)`): the shard stream of the
   *   record's primary key, as the gem's README shards, so that every change of one record
   *   lands in one stream, in order;
   * - a function of the entity, for any other scheme (then `redstreamStreams(Entity)` cannot
   *   list the streams, so declare consumers yourself);
   * - a stream definition (`defineStream`): its name, and `payload` must return its payload
   *   type; with its `parse`, each payload is checked before the delay message is written
   *   (a failure throws RedstreamValidationError and fails the database write).
   *
   * Default: the table name as TypeORM's default naming strategy derives it: the name given
   * to `@Entity('products')`, else the class name in snake_case (`ProductVariant` →
   * `product_variant`). The gem's default is the Rails table name, so name tables as Rails
   * would (`products`) to share streams with a Ruby application.
   */
  stream?: string | RedstreamShards | RedstreamStreamFunction<TEntity> | StreamDefinition<TPayload>;
  /**
   * The message payload. Default `{ id }`, the primary key (see {@link RedstreamChange.id}),
   * which is what the gem writes. Keep payloads small and immutable facts: consumers re-read the
   * current state from the database anyway.
   */
  payload?(entity: TEntity, change: RedstreamChange): TPayload;
}

/**
 * A stream name computed from the changed record. Must return the same name for every change
 * of one record, or consumers see that record's changes out of order.
 */
// Written as a method's type so that parameters are checked bivariantly, as for `payload`:
// a function of `Product` fits an option typed for `object`.
export type RedstreamStreamFunction<TEntity extends object = object> = {
  stream(entity: TEntity, change: RedstreamChange): string;
}['stream'];
