import { RedstreamConfigError, RedstreamConsumerActiveError, RedstreamOffsetError } from './errors';
import type { RedisClient } from './redis-connection';
import { consumerLockName, RedstreamKeys, validateConsumerName, validateStreamName } from './redstream-keys';
import { scripts } from './scripts';
import { compareStreamIds, isStreamId } from './stream-id';
import { readStreamPosition } from './stream-position';

/** What `Redstream.setCommittedOffset` changed. */
export interface OffsetChange {
  stream: string;
  consumer: string;
  /** The offset before; null when the consumer had committed none. */
  previous: string | null;
  offset: string;
}

/**
 * Sets the committed offset of offset consumer `consumer` of `stream` while no instance runs
 * it (checked and set in one script). Refuses, as the consumer itself would, an offset that is
 * not a stream id or lies beyond the stream's last generated id.
 */
export async function setCommittedOffset(
  client: RedisClient,
  keys: RedstreamKeys,
  stream: string,
  consumer: string,
  offset: string,
): Promise<OffsetChange> {
  validateStreamName(stream);
  validateConsumerName(consumer);
  if (typeof offset !== 'string' || !isStreamId(offset)) {
    throw new RedstreamConfigError(
      `setCommittedOffset: offset must be a stream id (<ms>-<seq>, 0-0 for the beginning), got ${JSON.stringify(offset)}`,
    );
  }
  const offsetKey = keys.offset(stream, consumer);
  // The last generated id only grows, so checking it before the script is as good as inside it.
  const position = await readStreamPosition(client, keys.stream(stream));
  if (position && compareStreamIds(offset, position.lastGeneratedId) > 0) {
    throw new RedstreamOffsetError(
      `setCommittedOffset: ${offset} lies beyond the last id stream "${stream}" generated ` +
        `(${position.lastGeneratedId}); consumer "${consumer}" would refuse to read from it`,
      offsetKey,
      offset,
    );
  }
  const lockKey = keys.lock(consumerLockName(stream, consumer));
  const [set, value] = (await scripts.setOffsetUnlessLocked.run(client, [lockKey, offsetKey], [offset])) as [
    number,
    string,
  ];
  if (set !== 1) {
    throw new RedstreamConsumerActiveError(
      `setCommittedOffset: consumer "${consumer}" of stream "${stream}" is running (lock ${lockKey} held by ` +
        `${value}); it would commit over the new offset: stop it, then set the offset`,
      value,
    );
  }
  return { stream, consumer, previous: value === '' ? null : value, offset };
}
