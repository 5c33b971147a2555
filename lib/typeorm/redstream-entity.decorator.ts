import { DefaultNamingStrategy, getMetadataArgsStorage } from 'typeorm';
import { RedstreamConfigError, RedstreamPayload, validateStreamName } from '../engine';
import { validatePayloads } from '../engine/stream-definition';
import type {
  RedstreamChange,
  RedstreamEntityOptions,
  RedstreamStreamFunction,
} from './interfaces/redstream-entity-options.interface';
import { RedstreamShards } from '../engine/redstream-shards';

/** An entity class (abstract base classes included). */
export type RedstreamEntityTarget = abstract new (...args: never[]) => object;

/** An entity's options with every default applied. */
export interface RedstreamEntityBinding {
  /** The class (or schema name) that was registered; a subclass shares its binding. */
  readonly target: RedstreamEntityTarget | string;
  streamOf(entity: object, change: RedstreamChange): string;
  payloadOf(entity: object, change: RedstreamChange): RedstreamPayload;
  /** Every stream the entity can write to, or undefined when `stream` is a function. */
  readonly streams?: readonly string[];
}

const registrations = new Map<RedstreamEntityTarget | string, RedstreamEntityOptions>();
// Bindings resolve the default stream name lazily (the `@Entity` decorator may run after
// ours), and are cached per class; a new registration clears the cache.
const bindings = new Map<RedstreamEntityTarget | string, RedstreamEntityBinding | null>();

/**
 * Makes every save, insert, remove, soft remove and recover of this entity write redstream
 * messages, as the gem's `redstream_callbacks` does: a delay message inside the transaction,
 * the immediate message after its commit. Needs a {@link RedstreamSubscriber} on the
 * DataSource (or `RedstreamTypeOrmModule`). Subclasses (single-table inheritance) inherit it.
 *
 * @example
 * ```ts
 * @RedstreamEntity() // stream 'products', payload { id }
 * @Entity('products')
 * export class Product { @PrimaryGeneratedColumn() id!: number; ... }
 * ```
 */
export function RedstreamEntity<TEntity extends object = object, TPayload extends object = RedstreamPayload>(
  options: RedstreamEntityOptions<TEntity, TPayload> = {},
): (target: RedstreamEntityTarget) => void {
  return (target) => registerRedstreamEntity(target, options);
}

/**
 * The same as {@link RedstreamEntity} without a decorator: for classes you do not own, and for
 * `EntitySchema` entities (pass the schema's `name`, and a `stream`: there is no class to
 * derive it from).
 */
export function registerRedstreamEntity<TEntity extends object = object, TPayload extends object = RedstreamPayload>(
  target: RedstreamEntityTarget | string,
  options: RedstreamEntityOptions<TEntity, TPayload> = {},
): void {
  if (typeof target === 'string' && options.stream === undefined) {
    throw new RedstreamConfigError(`registerRedstreamEntity('${target}'): an entity given by name needs a stream`);
  }
  if (typeof options.stream === 'string') validateStreamName(options.stream);
  registrations.set(target, options as unknown as RedstreamEntityOptions);
  bindings.clear();
}

/** Removes a registration (tests; entities that stop producing messages at run time). */
export function unregisterRedstreamEntity(target: RedstreamEntityTarget | string): void {
  registrations.delete(target);
  bindings.clear();
}

/**
 * The binding of an entity class (or one of its base classes) or schema name, or undefined
 * when it is not registered.
 */
export function redstreamEntityBinding(target: unknown): RedstreamEntityBinding | undefined {
  if (typeof target !== 'function' && typeof target !== 'string') return undefined;
  const key = target as RedstreamEntityTarget | string;
  let binding = bindings.get(key);
  if (binding === undefined) {
    const registered = findRegistration(key);
    binding = registered ? bind(registered[0], registered[1]) : null;
    bindings.set(key, binding);
  }
  return binding ?? undefined;
}

/**
 * Every stream an entity writes to: one name, or every shard's. Use it to declare consumers
 * and delayers: `@RedstreamConsumer({ stream: redstreamStreamName(Product), name: 'indexer' })`,
 * or one per entry for a sharded entity.
 */
export function redstreamStreams(target: RedstreamEntityTarget | string): readonly string[] {
  const binding = redstreamEntityBinding(target);
  if (!binding) throw new RedstreamConfigError(`${describe(target)} is not a @RedstreamEntity`);
  if (!binding.streams) {
    throw new RedstreamConfigError(
      `${describe(target)} computes its stream with a function, so its streams cannot be listed`,
    );
  }
  return binding.streams;
}

/** The one stream of an unsharded entity (throws for a sharded one: use {@link redstreamStreams}). */
export function redstreamStreamName(target: RedstreamEntityTarget | string): string {
  const streams = redstreamStreams(target);
  if (streams.length !== 1) {
    throw new RedstreamConfigError(
      `${describe(target)} writes to ${streams.length} shard streams; use redstreamStreams() to list them`,
    );
  }
  return streams[0];
}

/** The default payload: `{ id }` with the primary key, as the gem writes it. */
export function defaultRedstreamPayload(_entity: object, change: RedstreamChange): RedstreamPayload {
  return { id: change.id };
}

function findRegistration(
  target: RedstreamEntityTarget | string,
): [RedstreamEntityTarget | string, RedstreamEntityOptions] | undefined {
  if (typeof target === 'string') {
    const options = registrations.get(target);
    return options ? [target, options] : undefined;
  }
  for (let current: unknown = target; typeof current === 'function'; current = Object.getPrototypeOf(current)) {
    const options = registrations.get(current as RedstreamEntityTarget);
    if (options) return [current as RedstreamEntityTarget, options];
  }
  return undefined;
}

function bind(target: RedstreamEntityTarget | string, options: RedstreamEntityOptions): RedstreamEntityBinding {
  const payloadOf = options.payload ? options.payload.bind(options) : defaultRedstreamPayload;
  const stream = options.stream ?? defaultStreamName(target as RedstreamEntityTarget);
  if (typeof stream === 'string') {
    return { target, streams: [validateStreamName(stream)], streamOf: () => stream, payloadOf };
  }
  if (typeof stream === 'object' && !(stream instanceof RedstreamShards)) {
    // A stream definition: its name, and its parse before anything is written.
    const name = validateStreamName(stream.name);
    const parse = stream.parse;
    const where = `@RedstreamEntity on ${describe(target)}`;
    const checkedPayloadOf = parse
      ? (entity: object, change: RedstreamChange): RedstreamPayload => {
          const payload = payloadOf(entity, change);
          validatePayloads(parse, payload, where, name);
          return payload;
        }
      : payloadOf;
    return { target, streams: [name], streamOf: () => name, payloadOf: checkedPayloadOf };
  }
  if (stream instanceof RedstreamShards) {
    return { target, streams: stream.streams, streamOf: (_entity, change) => stream.streamOf(change.id), payloadOf };
  }
  const streamFunction: RedstreamStreamFunction = stream;
  return { target, streamOf: (entity, change) => validateStreamName(streamFunction(entity, change)), payloadOf };
}

// What TypeORM's default naming strategy calls the table: the name given to `@Entity()`,
// else the class name in snake_case. A custom naming strategy is deliberately not consulted:
// the name must be known without a DataSource, where consumers are declared.
function defaultStreamName(target: RedstreamEntityTarget): string {
  const table = getMetadataArgsStorage().tables.find((entry) => entry.target === target && entry.name);
  return new DefaultNamingStrategy().tableName(target.name, table?.name);
}

function describe(target: RedstreamEntityTarget | string): string {
  return typeof target === 'string' ? `Entity '${target}'` : `Entity ${target.name}`;
}
