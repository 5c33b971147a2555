/** Why standbys fall back to polling, for the one warning a {@link LockExpiryWatch} logs. */
export function lockExpiryFallbackMessage(reason: string, channel: string): string {
  return (
    `Standbys take over after a crash by polling, within lockTtlMs + standbyPollMs: ${reason}. ` +
    `For a takeover as soon as the lock expires, let Redis publish expired-key events ` +
    `(notify-keyspace-events with E and x, e.g. "Ex", in redis.conf or your provider's settings) ` +
    `or pass lockExpiryEvents: 'configure'; an ACL user also needs +subscribe &${channel}`
  );
}

export function lockExpiryClusterMessage(): string {
  return (
    'Standbys take over after a crash by polling, within lockTtlMs + standbyPollMs: on Redis Cluster ' +
    'expired-key events are published per node, and the library does not listen for them there'
  );
}

export function lockExpirySubscribeFailed(channel: string, error: string): string {
  return `SUBSCRIBE ${channel} was refused (${error})`;
}

export function lockExpiryNoEvents(): string {
  return 'Redis published no expired-key event for a probe key (notify-keyspace-events lacks E and x)';
}

export function lockExpiryConfigRefused(error: string): string {
  return `CONFIG GET/SET notify-keyspace-events was refused (${error})`;
}

export function lockExpiryListening(channel: string): string {
  return `Standbys take over as soon as a crashed owner's lock expires (expired-key events on ${channel})`;
}
