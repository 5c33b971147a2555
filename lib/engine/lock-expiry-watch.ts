import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { LockExpiryEvents } from './interfaces/redstream-options.interface';
import {
  lockExpiryClusterMessage,
  lockExpiryConfigRefused,
  lockExpiryFallbackMessage,
  lockExpiryListening,
  lockExpiryNoEvents,
  lockExpirySubscribeFailed,
} from './lock-expiry.messages';
import type { RedisClient, RedisConnectionFactory } from './redis-connection';
import type { RedstreamKeys } from './redstream-keys';
import { scripts } from './scripts';
import { isRedisReplyError } from './scripts/script-error';
import { withTimeout } from './with-timeout';

/** The values of the `lockExpiryEvents` option. */
export const LOCK_EXPIRY_EVENTS: readonly LockExpiryEvents[] = ['listen', 'configure', false];

/** How long the probe waits for Redis to publish the expiry of its probe key. */
const PROBE_TIMEOUT_MS = 2_000;

/** A lock key some standby of this process has waited for. */
interface WatchedLock {
  notifyKey: string;
  /** Lifetime of a wake-up token on the notify list: the lock's ttl, as a release sets it. */
  ttlMs: number;
  /** Standbys waiting on its notify list now. */
  waiting: number;
  /** `performance.now()` of the last expiry event seen for it. */
  expiredAt: number;
}

/**
 * The flags `notify-keyspace-events` needs for expired-key events on `__keyevent@<db>__:expired`
 * (`E`, and `x` unless `A` already includes it), added to `current`: never removes a flag.
 */
export function mergeKeyspaceEventFlags(current: string): string {
  let flags = current;
  if (!flags.includes('E')) flags += 'E';
  if (!flags.includes('x') && !flags.includes('A')) flags += 'x';
  return flags;
}

/**
 * Fast takeover after a crash, one per {@link Redstream}: a crashed owner's lock key expires,
 * and where Redis publishes expired-key events this wakes the standbys of this process at once
 * instead of at their next poll. One subscriber connection for the whole instance, opened
 * when the first standby waits, on `__keyevent@<db>__:expired`; an expiry of a lock key that a
 * standby here waits for pushes a wake-up onto the lock's notify list (`wake-standby.lua`, only
 * while the lock is still free), the path a graceful release takes, so a waiting gem standby is
 * woken too and the BRPOP on the worker's connection ends as after a release.
 *
 * Whether events come is checked once with a probe key that expires at once; when they do not
 * (or SUBSCRIBE or CONFIG is refused, or on a Cluster, whose nodes publish their own events)
 * one warning says so and standbys poll as before.
 */
export class LockExpiryWatch {
  private readonly locks = new Map<string, WatchedLock>();
  private starting = false;
  private settled = false;
  /** Whether the last probe's event came. */
  private flowing = false;
  private rechecking = false;
  private closed = false;
  private subscriber?: RedisClient;
  private probe?: { key: string; seen: () => void; cancel: () => void };

  constructor(
    private readonly connections: RedisConnectionFactory,
    private readonly keys: RedstreamKeys,
    private readonly logger: RedstreamLogger,
    private readonly mode: LockExpiryEvents,
  ) {}

  /** True while expiry events are known to arrive (the last probe's came). */
  get listening(): boolean {
    return this.subscriber !== undefined && this.flowing;
  }

  /**
   * Registers a standby waiting on `notifyKey` for `lockKey` (and starts listening, the first
   * time); call the returned function when the wait is over.
   */
  waiting(lockKey: string, notifyKey: string, ttlMs: number): () => void {
    this.start();
    let watched = this.locks.get(lockKey);
    if (!watched) {
      watched = { notifyKey, ttlMs, waiting: 0, expiredAt: 0 };
      this.locks.set(lockKey, watched);
    }
    const entry = watched;
    entry.waiting++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.waiting--;
    };
  }

  /**
   * Whether an expiry of `lockKey` was seen after `since` (`performance.now()`): the event came
   * between a failed acquire and the wait, when no standby here was registered to be woken.
   */
  expiredSince(lockKey: string, since: number): boolean {
    return (this.locks.get(lockKey)?.expiredAt ?? 0) > since;
  }

  /** Stops listening; the subscriber is one of the factory's connections and closes with them. */
  close(): void {
    this.closed = true;
    // A probe waiting for its event would keep the process alive for up to PROBE_TIMEOUT_MS.
    this.probe?.cancel();
  }

  private start(): void {
    if (this.mode === false || this.starting || this.settled || this.closed) return;
    this.starting = true;
    void this.listen()
      .catch((error: Error) => {
        // Not an answer from Redis (it was unreachable): try again when a standby next waits.
        this.logger.debug?.(`Listening for lock expiry events failed (${error.message}); will try again`);
        return this.dropSubscriber();
      })
      .finally(() => {
        this.starting = false;
      });
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const shared = this.connections.client();
    if ((shared as { isCluster?: boolean }).isCluster === true) {
      this.giveUp(lockExpiryClusterMessage(), 'log');
      return;
    }
    const channel = `__keyevent@${(shared as Redis).options.db ?? 0}__:expired`;
    const subscriber = this.connections.createBlocking('lock expiry events');
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, key: string) => this.onExpired(key));
    try {
      await subscriber.subscribe(channel);
      if (this.closed) return await this.dropSubscriber();
    } catch (error) {
      if (!isRedisReplyError(error)) throw error;
      await this.dropSubscriber();
      this.giveUp(lockExpiryFallbackMessage(lockExpirySubscribeFailed(channel, error.message), channel));
      return;
    }
    const refused = this.mode === 'configure' ? await this.configure(shared) : undefined;
    if (this.closed) return this.dropSubscriber();
    if (await this.probeEvents(shared)) {
      this.settled = true;
      this.flowing = true;
      this.logger.debug?.(lockExpiryListening(channel));
      // A restarted Redis forgets a CONFIG SET, and a failover may land on a server that
      // publishes nothing: check again after every reconnect. ioredis emits `ready` before it
      // re-subscribes, hence the turn of the event loop.
      subscriber.on('ready', () => setImmediate(() => void this.recheck(shared, subscriber, channel)));
      return;
    }
    await this.dropSubscriber();
    const reason = [lockExpiryNoEvents(), refused].filter(Boolean).join('; ');
    this.giveUp(lockExpiryFallbackMessage(reason, channel));
  }

  /** After a reconnect: configures again if asked to, probes, and warns once when events stopped. */
  private async recheck(shared: RedisClient, subscriber: RedisClient, channel: string): Promise<void> {
    if (this.closed || this.rechecking || subscriber !== this.subscriber) return;
    this.rechecking = true;
    try {
      // Answered after the re-subscription sent before it: the probe's event cannot be missed.
      await subscriber.ping();
      const refused = this.mode === 'configure' ? await this.configure(shared) : undefined;
      const flowing = await this.probeEvents(shared);
      if (this.flowing && !flowing) {
        const reason = [lockExpiryNoEvents(), refused].filter(Boolean).join('; ');
        this.logger.warn(lockExpiryFallbackMessage(`after Redis reconnected, ${reason}`, channel));
      } else if (!this.flowing && flowing) {
        this.logger.log(lockExpiryListening(channel));
      }
      this.flowing = flowing;
    } catch {
      // Redis went away again: the next reconnect checks again.
    } finally {
      this.rechecking = false;
    }
  }

  /** Adds the flags expiry events need; the reason when Redis refuses (ACL, managed Redis). */
  private async configure(shared: RedisClient): Promise<string | undefined> {
    try {
      const reply = (await shared.config('GET', 'notify-keyspace-events')) as string[];
      const current = reply[1] ?? '';
      const merged = mergeKeyspaceEventFlags(current);
      if (merged !== current) await shared.config('SET', 'notify-keyspace-events', merged);
      return undefined;
    } catch (error) {
      if (!isRedisReplyError(error)) throw error;
      return lockExpiryConfigRefused(error.message);
    }
  }

  /**
   * Sets a key that expires at once and reads it, which makes Redis expire it (and publish the
   * event, if it publishes any) without CONFIG, which ACLs and managed Redis often refuse.
   */
  private async probeEvents(shared: RedisClient): Promise<boolean> {
    const key = `${this.keys.base}:expiry-probe:${randomBytes(8).toString('hex')}`;
    const seen = new Promise<boolean>(
      (resolve) => (this.probe = { key, seen: () => resolve(true), cancel: () => resolve(false) }),
    );
    try {
      await shared.set(key, '1', 'PX', 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await shared.exists(key);
      return await withTimeout(seen, PROBE_TIMEOUT_MS, () => false);
    } finally {
      this.probe = undefined;
    }
  }

  private onExpired(key: string): void {
    if (key === this.probe?.key) {
      this.probe.seen();
      return;
    }
    const watched = this.locks.get(key);
    if (!watched) return;
    watched.expiredAt = performance.now();
    if (watched.waiting === 0 || this.closed) return;
    scripts.wakeStandby
      .run(this.connections.client(), [key, watched.notifyKey], [watched.ttlMs])
      // Unwoken, the standby takes over at its next poll: slower, never wrong.
      .catch((error: Error) => this.logger.debug?.(`Waking a standby of ${key} failed: ${error.message}`));
  }

  private giveUp(message: string, level: 'warn' | 'log' = 'warn'): void {
    this.settled = true;
    this.logger[level](message);
  }

  private async dropSubscriber(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await this.connections.release(subscriber);
  }
}
