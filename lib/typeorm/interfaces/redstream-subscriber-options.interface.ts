import type { RedstreamLogger } from '../../engine';

/** Options of a {@link RedstreamSubscriber}. */
export interface RedstreamSubscriberOptions {
  /** Where to log failed immediate writes and bypassing writes. Default: the console. */
  logger?: RedstreamLogger;
  /**
   * What a failed delay message does to the database write it belongs to:
   * - `'fail'` (default, as the gem): the write throws {@link RedstreamDelayWriteError} and its
   *   transaction rolls back, so that no change can escape the stream. While Redis is down,
   *   writes of redstream entities fail after the Producer's `commandTimeoutMs`.
   * - `'log'`: the error is logged and the write goes on. Availability over consistency: if
   *   the immediate message after the commit fails as well, consumers miss the change until
   *   the record changes again (or you re-sync).
   */
  onDelayError?: 'fail' | 'log';
  /**
   * What a write of a redstream entity without a visible primary key does (`QueryBuilder`
   * update / delete, `repository.update(criteria, ...)`, `repository.delete(criteria)`): those
   * produce no message. `'warn'` (default) logs once per entity and kind of write, `'fail'`
   * throws {@link RedstreamBypassError}, which rolls the write back when it runs in a
   * transaction (a QueryBuilder write outside one has committed by then), `'ignore'` stays silent.
   * Writes inside `redstreamBulk()` are never reported: it writes their messages.
   */
  onBypass?: 'warn' | 'fail' | 'ignore';
}
