import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RedstreamConfigError } from './errors';

/** The consumer name under which the gem (and this library) runs a stream's Delayer. */
export const DELAYER_CONSUMER_NAME = 'delayer';
/** Suffix of a stream's delay stream, as the gem names it. */
export const DELAY_STREAM_SUFFIX = '.delay';
/** Suffix of a stream's dead-letter stream (ours; the gem has none). */
export const DEAD_LETTER_STREAM_SUFFIX = '.dead';

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

const RESERVED_SUFFIXES: readonly [suffix: string, meaning: string][] = [
  [DELAY_STREAM_SUFFIX, "a stream's delay stream"],
  [DEAD_LETTER_STREAM_SUFFIX, "a stream's dead-letter stream"],
];

/**
 * Throws RedstreamConfigError unless `name` can be a stream name; returns it. The suffixes
 * `.delay` and `.dead` are reserved for the streams the library derives from a stream.
 */
export function validateStreamName(name: unknown): string {
  validateName('Stream name', name, NAME);
  for (const [suffix, meaning] of RESERVED_SUFFIXES) {
    if ((name as string).endsWith(suffix)) {
      throw new RedstreamConfigError(
        `Stream name "${String(name)}" must not end with "${suffix}": that suffix names ${meaning}`,
      );
    }
  }
  return name as string;
}

/**
 * Like {@link validateStreamName}, but also accepts a dead-letter stream (`<stream>.dead`),
 * which is an ordinary stream that any reader (a Consumer, a group consumer, an operator's
 * XRANGE) may read; only writing to it is the library's business.
 */
export function validateReadableStreamName(name: unknown): string {
  if (typeof name === 'string' && name.endsWith(DEAD_LETTER_STREAM_SUFFIX)) {
    validateStreamName(name.slice(0, -DEAD_LETTER_STREAM_SUFFIX.length));
    return name;
  }
  return validateStreamName(name);
}

/** Throws RedstreamConfigError unless `name` can be a consumer name; returns it. */
export function validateConsumerName(name: unknown): string {
  return validateName('Consumer name', name, NAME);
}

/**
 * Throws RedstreamConfigError unless `name` can be a consumer group name; returns it. Group
 * names follow the consumer names' rules: they appear in logs, in `'<stream>:<group>'`
 * handler keys and possibly in keys of ours, where ':' or a space would be ambiguous.
 */
export function validateGroupName(name: unknown): string {
  return validateName('Group name', name, NAME);
}

/** Throws RedstreamConfigError unless `name` can name a shard group (':' allowed: `<base>:<consumer>`). */
export function validateShardGroupName(name: unknown): string {
  return validateName('Shard group', name, NAMESPACE);
}

/** Throws RedstreamConfigError unless `name` can be a member (Redis consumer) of a group. */
export function validateMemberName(name: unknown): string {
  return validateName('Member name', name, NAME);
}

/**
 * A new member name for one group consumer instance: `<host>-<pid>-<random>`. The random
 * part makes every start a new member, so a restarted process (same host, and in a
 * container often the same pid) never inherits a dead member's identity and pending
 * entries by accident: those are claimed after `claimIdleMs` like any crashed member's.
 */
export function memberName(host: string = hostname()): string {
  // Host names may hold characters the layout rejects (a space on some desktops, ':' never
  // in DNS but possible in a configured name): replace them rather than fail at start.
  const safeHost = host.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'host';
  return `${safeHost}-${process.pid}-${randomBytes(6).toString('hex')}`;
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
 * | dead-letter stream (ours) | `<base>:stream:<stream>.dead` |
 *
 * `<base>` is `redstream`, or `<namespace>:redstream`. One addition of ours, which the gem
 * ignores: `<base>:consumers:<stream>`, the set of consumer names that ever ran on a stream,
 * read by the trimmer; and `<base>:shard-group:<group>:instances`, the heartbeats of the
 * instances balancing a shard group's locks.
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

  /** `<base>:stream:<stream>.dead`: an ordinary stream, in the slot of the stream's hash tag. */
  deadLetterStream(stream: string): string {
    return this.stream(deadLetterStreamName(stream));
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

  /** `<base>:shard-group:<group>:instances` (ours): the live instances of a shard group, scored by expiry. */
  shardGroupInstances(group: string): string {
    return `${this.base}:shard-group:${group}:instances`;
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

/** `<stream>.dead`: the stream that receives the entries a stream's consumers gave up on. */
export function deadLetterStreamName(stream: string): string {
  return `${stream}${DEAD_LETTER_STREAM_SUFFIX}`;
}
