import { RedstreamConfigError, RedstreamValidationError } from './errors';
import type { RedstreamPayload } from './interfaces/redstream-message.interface';
import { validateStreamName } from './redstream-keys';

/** Carries a definition's payload type; never set at run time. */
declare const payloadType: unique symbol;

/** Options of {@link defineStream}. */
export interface StreamDefinitionOptions<TPayload extends object> {
  /**
   * Checks a payload at run time and returns it typed (or a converted copy); throws when it
   * does not fit. Any schema library fits without this package depending on it: zod
   * (`(p) => schema.parse(p)`), valibot (`(p) => v.parse(schema, p)`), class-validator
   * (`plainToInstance` + `validateSync`, throwing on errors), or a hand-written guard.
   *
   * The Producer calls it on every payload before writing (a failure rejects the call with
   * RedstreamValidationError and writes nothing of it) and writes the payload as given;
   * consumers and group consumers call it on every entry read and hand the handler what it
   * returned. An entry it throws on is rejected like an entry that is not JSON: logged,
   * emitted as `rejected`, passed over (and written to `<stream>.dead` when the consumer has
   * dead letters enabled).
   */
  parse?: (payload: unknown) => TPayload;
}

/**
 * A stream's contract, shared by its producers and consumers: the name, the payload type, and
 * optionally a run-time check. Made by {@link defineStream}; accepted wherever a stream name is
 * (`producer.queue(Products, ...)`, `redstream.consumer({ stream: Products, ... })`, the
 * decorators, `@RedstreamEntity`).
 */
export interface StreamDefinition<TPayload extends object = RedstreamPayload> {
  /** The stream's name, e.g. `products`. */
  readonly name: string;
  /** The run-time check, if one was given. */
  readonly parse?: (payload: unknown) => TPayload;
  /** The payload type, for the compiler only. */
  readonly [payloadType]?: TPayload;
}

/** A stream name or a {@link StreamDefinition}. */
export type StreamRef<TPayload extends object = RedstreamPayload> = string | StreamDefinition<TPayload>;

/** The payload type of a {@link StreamDefinition}: `StreamPayload<typeof Products>`. */
export type StreamPayload<TStream> = TStream extends StreamDefinition<infer TPayload> ? TPayload : never;

/**
 * Defines a stream once, for producer and consumers:
 *
 * @example
 * ```ts
 * export const Products = defineStream<{ id: number }>('products');
 * await producer.queue(Products, { id: 1 });          // { id: '1' } does not compile
 * redstream.consumer({ stream: Products, name: 'indexer', handler: (messages) => messages[0].payload.id });
 *
 * // with a run-time check (zod here; anything that throws or returns the value fits)
 * export const Orders = defineStream('orders', { parse: (payload) => OrderSchema.parse(payload) });
 * ```
 */
export function defineStream<TPayload extends object = RedstreamPayload>(
  name: string,
  options: StreamDefinitionOptions<TPayload> = {},
): StreamDefinition<TPayload> {
  validateStreamName(name);
  const { parse } = options;
  if (parse !== undefined && typeof parse !== 'function') {
    throw new RedstreamConfigError(`defineStream('${name}'): parse must be a function`);
  }
  return Object.freeze(parse ? { name, parse } : { name });
}

/** The name of a stream given by name or definition. */
export function streamNameOf(stream: StreamRef<object>): string {
  if (typeof stream === 'object' && stream !== null && typeof stream.name === 'string') return stream.name;
  return stream as string;
}

/** The `parse` of a stream given by definition, if any. */
export function streamParserOf<TPayload extends object>(
  stream: StreamRef<TPayload>,
): ((payload: unknown) => TPayload) | undefined {
  return typeof stream === 'object' && stream !== null ? stream.parse : undefined;
}

/** The message of a thrown value, for a log line or an error. */
export function validationFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `parse` over the payloads of a write; throws RedstreamValidationError naming the
 * first one that fails, so that nothing of the call is written. `where` names the caller,
 * e.g. `Producer.queue(products)`.
 */
export function validatePayloads(
  parse: (payload: unknown) => unknown,
  payloads: object | readonly object[],
  where: string,
  stream: string,
): void {
  const list: readonly object[] = Array.isArray(payloads) ? payloads : [payloads as object];
  for (let index = 0; index < list.length; index++) {
    try {
      parse(list[index]);
    } catch (error) {
      const which = Array.isArray(payloads) ? `payloads[${index}]` : 'the payload';
      throw new RedstreamValidationError(
        `${where}: ${which} failed the stream's parse: ${validationFailure(error)}; nothing was written`,
        stream,
        index,
        { cause: error },
      );
    }
  }
}
