import { RedstreamConfigError } from './errors';

/** The consumer name under which the gem (and this library) runs a stream's Delayer. */
export const DELAYER_CONSUMER_NAME = 'delayer';
/** Suffix of a stream's delay stream, as the gem names it. */
export const DELAY_STREAM_SUFFIX = '.delay';

// Stream and consumer names become parts of ':'-separated keys, so ':' (and anything that
// needs quoting) would make two different names share a key. Braces are allowed for a
// Redis Cluster hash tag such as "{products}", which keeps every key of a stream in one slot.
const NAME = /^[A-Za-z0-9_.\-{}@/]+$/;
const NAMESPACE = /^[A-Za-z0-9_.\-{}@/:]+$/;
const MAX_NAME_LENGTH = 200;

function validateName(kind: string, name: unknown, pattern: RegExp): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new RedstreamConfigError(`${kind} must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new RedstreamConfigError(`${kind} "${name.slice(0, 40)}..." is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (!pattern.test(name)) {
    const allowed = `letters, digits and _ . - { } @ /${pattern === NAMESPACE ? ' :' : ''}`;
    throw new RedstreamConfigError(
      `${kind} "${name}" contains ${describeCharacter(firstInvalidCharacter(name, pattern))}: it may only contain ` +
        `${allowed}, as ':' separates the parts of the Redis keys and spaces or control characters would need quoting`,
    );
  }
  return name;
}

function firstInvalidCharacter(name: string, pattern: RegExp): string {
  return [...name].find((character) => !pattern.test(character)) ?? name;
}

function describeCharacter(character: string): string {
  if (character === ' ') return 'a space';
  if (/\s/.test(character)) return `whitespace (${JSON.stringify(character)})`;
  return `'${character}'`;
}

/** Throws RedstreamConfigError unless `name` can be a stream name; returns it. */
export function validateStreamName(name: unknown): string {
  validateName('Stream name', name, NAME);
  if ((name as string).endsWith(DELAY_STREAM_SUFFIX)) {
    throw new RedstreamConfigError(
      `Stream name "${String(name)}" must not end with "${DELAY_STREAM_SUFFIX}": that suffix names a stream's delay stream`,
    );
  }
  return name as string;
}

/** Throws RedstreamConfigError unless `name` can be a consumer name; returns it. */
export function validateConsumerName(name: unknown): string {
  return validateName('Consumer name', name, NAME);
}

/** Throws RedstreamConfigError unless `namespace` is undefined or a valid namespace. */
export function validateNamespace(namespace: unknown): string | undefined {
  if (namespace === undefined || namespace === null || namespace === '') return undefined;
  return validateName('Namespace', namespace, NAMESPACE);
}

/**
 * The Redis key layout, identical to the redstream gem's (v0.6) so that a Ruby and a Node
 * fleet can share streams:
 *
 * | what | key |
 * |---|---|
 * | stream | `<base>:stream:<stream>` |
 * | delay stream | `<base>:stream:<stream>.delay` |
 * | committed offset | `<base>:offset:<stream>:<consumer>` |
 * | lock | `<base>:lock:<lock name>`, wake-up list `<lock key>.notify` |
 *
 * `<base>` is `redstream`, or `<namespace>:redstream`. One addition of ours, which the gem
 * ignores: `<base>:consumers:<stream>`, the set of consumer names that ever ran on a stream,
 * read by the trimmer.
 *
 * Every key of one stream contains the stream name, so a hash-tagged name (`{products}`)
 * puts all of them in one Redis Cluster slot.
 */
export class RedstreamKeys {
  /** `redstream` or `<namespace>:redstream`. */
  readonly base: string;

  constructor(readonly namespace?: string) {
    const valid = validateNamespace(namespace);
    this.base = valid ? `${valid}:redstream` : 'redstream';
  }

  stream(stream: string): string {
    return `${this.base}:stream:${stream}`;
  }

  delayStream(stream: string): string {
    return this.stream(delayStreamName(stream));
  }

  offset(stream: string, consumer: string): string {
    return `${this.base}:offset:${stream}:${consumer}`;
  }

  lock(lockName: string): string {
    return `${this.base}:lock:${lockName}`;
  }

  notify(lockKey: string): string {
    return `${lockKey}.notify`;
  }

  consumerRegistry(stream: string): string {
    return `${this.base}:consumers:${stream}`;
  }
}

/** The gem's lock name of a consumer: `consumer:<stream>:<name>`. */
export function consumerLockName(stream: string, consumer: string): string {
  return `consumer:${stream}:${consumer}`;
}

/** The gem's lock name of a trimmer: `trimmer:<stream>`. */
export function trimmerLockName(stream: string): string {
  return `trimmer:${stream}`;
}

/** `<stream>.delay`: the stream the Delayer reads as consumer `delayer`. */
export function delayStreamName(stream: string): string {
  return `${stream}${DELAY_STREAM_SUFFIX}`;
}
