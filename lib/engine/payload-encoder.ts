import { RedstreamConfigError } from './errors';

/**
 * The deepest nesting of objects and arrays a payload may have, the payload itself being
 * level 1. Ruby's `JSON.parse` refuses deeper documents by default (`max_nesting` 100), so a
 * consumer written with the gem could not read them either.
 */
export const MAX_PAYLOAD_DEPTH = 100;

/**
 * Encodes payloads as the JSON of an entry's `payload` field, all before anything is written:
 * one payload that would not come back as written fails the whole call with
 * RedstreamConfigError naming its field. `method` and `stream` name the call in the error.
 *
 * Rejected: a payload that is not a JSON object, and anywhere inside it `undefined`, functions
 * and symbols (JSON drops them, or writes null in arrays), BigInts (JSON throws), NaN and
 * ±Infinity and invalid Dates (JSON writes null), Maps and Sets (JSON writes `{}`), circular
 * references, and nesting deeper than {@link MAX_PAYLOAD_DEPTH}. Converted as JSON does:
 * a value with `toJSON()` becomes its result (a Date its ISO string), boxed primitives their
 * primitive, any other object its own enumerable string-keyed properties.
 */
export function encodePayloads(payloads: object | readonly object[], method: string, stream: string): string[] {
  if (!Array.isArray(payloads)) return [encodePayload(payloads, method, stream, -1)];
  const encoded = new Array<string>(payloads.length);
  for (let i = 0; i < payloads.length; i++) encoded[i] = encodePayload(payloads[i], method, stream, i);
  return encoded;
}

/** `index` is the payload's position in the array passed, -1 for a single payload. */
function encodePayload(payload: unknown, method: string, stream: string, index: number): string {
  // The usual payload, `{ id: 1 }`, needs no walk: plain, flat, and every value round-trips.
  if (isFlatRecord(payload)) return JSON.stringify(payload);
  return new PayloadWalk(method, stream, index).encode(payload);
}

function isFlatRecord(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    switch (typeof field) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (Number.isFinite(field)) continue;
        return false;
      case 'object':
        if (field === null) continue;
        return false;
      default:
        return false;
    }
  }
  return true;
}

/**
 * Checks every value as `JSON.stringify` meets it (after `toJSON()`), through its replacer:
 * the replacer sees each value before JSON descends into it, so the walk keeps the chain of
 * objects above the current value, to name a bad value's path, find circular references and
 * stop deep nesting before JSON's own recursion would overflow the stack.
 */
class PayloadWalk {
  private readonly ancestors: object[] = [];
  /** `keys[i]`: the key under which `ancestors[i]` sits in `ancestors[i - 1]`. */
  private readonly keys: string[] = [];

  constructor(
    private readonly method: string,
    private readonly stream: string,
    private readonly index: number,
  ) {}

  encode(payload: unknown): string {
    const check = (holder: unknown, key: string, value: unknown): unknown => this.check(holder, key, value);
    let json: string;
    try {
      json = JSON.stringify(payload, function (this: unknown, key: string, value: unknown) {
        return check(this, key, value);
      });
    } catch (error) {
      if (error instanceof RedstreamConfigError) throw error;
      // A toJSON() or a getter that threw, or a value no check above foresaw.
      throw this.error(`cannot be written as JSON: ${(error as Error).message}`, { cause: error });
    }
    return json;
  }

  private check(holder: unknown, key: string, value: unknown): unknown {
    const { ancestors, keys } = this;
    if (ancestors.length === 0) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw this.error(`must be a JSON object such as { id: 1 }, got ${preview(value)}`);
      }
      ancestors.push(value);
      keys.push('');
      return value;
    }
    while (ancestors.length > 1 && ancestors[ancestors.length - 1] !== holder) {
      ancestors.pop();
      keys.pop();
    }
    const inArray = Array.isArray(holder);
    const dropped = inArray ? 'which JSON writes as null' : 'which JSON leaves out';
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Number.isFinite(value)) return value;
        throw this.fieldError(key, `is ${value}, which JSON writes as null`);
      case 'bigint':
        throw this.fieldError(key, 'is a BigInt, which JSON cannot write (convert it to a string or a number)');
      case 'undefined':
        throw this.fieldError(
          key,
          `is undefined, ${dropped} (${inArray ? 'use null' : 'leave the key out or use null'})`,
        );
      case 'function':
        throw this.fieldError(key, `is a function, ${dropped}`);
      case 'symbol':
        throw this.fieldError(key, `is a symbol, ${dropped}`);
    }
    if (value === null) {
      // Date#toJSON() gives null for an invalid Date.
      if ((holder as Record<string, unknown>)[key] instanceof Date) {
        throw this.fieldError(key, 'is an invalid Date, which JSON writes as null');
      }
      return value;
    }
    return this.checkObject(key, value as object);
  }

  private checkObject(key: string, value: object): object {
    if (value instanceof Number) {
      if (Number.isFinite(value.valueOf())) return value;
      throw this.fieldError(key, `is ${value.valueOf()}, which JSON writes as null`);
    }
    if (value instanceof String || value instanceof Boolean) return value;
    if (value instanceof BigInt) throw this.fieldError(key, 'is a BigInt, which JSON cannot write');
    if (value instanceof Map || value instanceof Set) {
      throw this.fieldError(key, `is a ${value instanceof Map ? 'Map' : 'Set'}, which JSON writes as {}`);
    }
    const { ancestors, keys } = this;
    const cycleStart = ancestors.indexOf(value);
    if (cycleStart >= 0) {
      throw this.fieldError(key, `refers back to ${this.path(cycleStart + 1)} (a circular reference)`);
    }
    if (ancestors.length >= MAX_PAYLOAD_DEPTH) {
      throw this.fieldError(
        key,
        `nests deeper than ${MAX_PAYLOAD_DEPTH} levels of objects and arrays (Ruby's JSON.parse refuses more)`,
      );
    }
    ancestors.push(value);
    keys.push(key);
    return value;
  }

  /** The path of `ancestors[depth - 1]` (all of them by default), then `key` if given. */
  private path(depth = this.ancestors.length, key?: string): string {
    let path = this.index < 0 ? 'payload' : `payloads[${this.index}]`;
    for (let level = 1; level < depth; level++) path += segment(this.ancestors[level - 1], this.keys[level]);
    if (key !== undefined) path += segment(this.ancestors[depth - 1], key);
    // A path a hundred levels deep would drown the message.
    return path.length > 160 ? `${path.slice(0, 80)}...${path.slice(-60)}` : path;
  }

  private fieldError(key: string, problem: string): RedstreamConfigError {
    return new RedstreamConfigError(
      `Producer.${this.method}(${this.stream}): ${this.path(this.ancestors.length, key)} ${problem}; ` +
        'nothing was written',
    );
  }

  private error(problem: string, options?: ErrorOptions): RedstreamConfigError {
    const subject = this.index < 0 ? 'a message payload' : `payloads[${this.index}]: a message payload`;
    return new RedstreamConfigError(
      `Producer.${this.method}(${this.stream}): ${subject} ${problem}; nothing was written`,
      options,
    );
  }
}

function segment(holder: object, key: string): string {
  if (Array.isArray(holder)) return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function preview(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'bigint') return `${value}n`;
  const json = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
