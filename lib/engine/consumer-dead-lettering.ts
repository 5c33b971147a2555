import { DeadLetters, deadLetterErrorMessage } from './dead-letters';
import { RedstreamLockLostError } from './errors';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { RedstreamMessage } from './interfaces/redstream-message.interface';
import { positiveInteger } from './option-validation';
import { isolatePoison } from './poison-isolation';
import type { StreamLock } from './stream-lock';

/**
 * More lone failures than this in one batch (or every entry of a batch of several) look like
 * an outage of what the handler needs rather than poison: the batch is retried whole
 * instead, and nothing is dead-lettered.
 * It also bounds an isolation during an outage to about log2(batch) + 2 × this many calls.
 */
export const MAX_POISONED_PER_BATCH = 10;

/** An entry an offset consumer moved to `<stream>.dead`. */
export interface ConsumerDeadLetter {
  /** The entry's id in the stream. */
  id: string;
  /** Its id in `<stream>.dead`. */
  deadLetterId: string;
  /** The last error's message, as recorded. */
  error: string;
}

/** What became of a batch that failed `afterAttempts` times. */
export type ConsumerIsolationOutcome =
  /** Every entry was handled, in order, or moved to `.dead`: the batch may be committed. */
  | { outcome: 'isolated'; deadLettered: ConsumerDeadLetter[]; calls: number }
  /** Too many entries fail on their own: retry the whole batch later. */
  | { outcome: 'outage'; calls: number };

/** Validates `deadLetter.afterAttempts` of a consumer; `undefined` when off. */
export function resolveDeadLetterAfterAttempts(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  const afterAttempts = (value as { afterAttempts?: unknown } | null)?.afterAttempts;
  return positiveInteger(afterAttempts, `${where}: deadLetter.afterAttempts`);
}

/**
 * Poison isolation for an offset consumer (`deadLetter: { afterAttempts }`): bisects a batch
 * that keeps failing so that the healthy entries are handled in stream order, and writes the
 * entries that fail on their own to `<stream>.dead`, fenced by the consumer's lock like a
 * commit; the caller then commits past the batch. A lost lock or `stop()` interrupts it
 * before anything is written, and the batch stays uncommitted (delivered again).
 */
export class ConsumerDeadLettering {
  constructor(
    private readonly deadLetters: DeadLetters,
    private readonly stream: string,
    private readonly consumer: string,
    private readonly lock: StreamLock,
    private readonly logger: RedstreamLogger,
    private readonly label: string,
  ) {}

  async isolate<T extends object>(
    messages: RedstreamMessage<T>[],
    batchFailure: unknown,
    attempts: number,
    handle: (messages: RedstreamMessage<T>[]) => Promise<unknown>,
    /** Resolves false when the lock is lost (asks Redis when the local lease ran out). */
    holdsLock: () => Promise<boolean>,
    stopSignal: AbortSignal,
  ): Promise<ConsumerIsolationOutcome> {
    const lockLost = new AbortController();
    const isolation = await isolatePoison(
      messages,
      async (part) => {
        if (!(await holdsLock())) {
          lockLost.abort();
          throw new RedstreamLockLostError(`${this.label} lost its lock while isolating a failing batch`);
        }
        await handle([...part]);
      },
      {
        batchFailure: { error: batchFailure },
        signal: AbortSignal.any([stopSignal, lockLost.signal]),
        maxPoisoned: MAX_POISONED_PER_BATCH,
      },
    );
    if (lockLost.signal.aborted) {
      throw new RedstreamLockLostError(`${this.label} lost its lock while isolating a failing batch; not committed`);
    }
    // stop(): the caller sees it and leaves the batch uncommitted.
    if (isolation.stoppedBecause === 'aborted') return { outcome: 'outage', calls: isolation.calls };
    // Every entry of a batch failing on its own (a small first batch during an outage) says
    // as little about the entries as more than MAX_POISONED_PER_BATCH of them.
    const allFailed = messages.length > 1 && isolation.poisoned.length === messages.length;
    if (isolation.stoppedBecause === 'too-many-poisoned' || allFailed) {
      const howMany = allFailed
        ? `all ${messages.length}`
        : `more than ${MAX_POISONED_PER_BATCH} of ${messages.length}`;
      this.logger.warn(
        `${this.label}: ${howMany} messages fail on their own ` +
          `(${isolation.calls} handler calls): more likely an outage than bad entries; nothing dead-lettered, retrying the batch`,
        { ids: `${messages[0].id}..${messages[messages.length - 1].id}`, attempt: attempts },
      );
      return { outcome: 'outage', calls: isolation.calls };
    }

    const deadLettered = await this.write(
      isolation.poisoned.map(({ entry, error }) => ({ id: entry.id, error })),
      // The batch's attempts plus the entry's own one.
      attempts + 1,
    );
    if (deadLettered.length > 0) {
      this.logger.warn(
        `${this.label}: moved ${deadLettered.length} of ${messages.length} messages that fail on their own to ` +
          `${this.stream}.dead after ${attempts} failed attempts of the batch (${isolation.calls} handler calls to find them): ` +
          deadLettered.map((entry) => `${entry.id} (${entry.error})`).join(', '),
        { ids: deadLettered.map((entry) => entry.id).join(','), attempt: attempts },
      );
    }
    return { outcome: 'isolated', deadLettered, calls: isolation.calls };
  }

  /**
   * Writes entries whose payload failed the stream definition's `parse` to `<stream>.dead`,
   * fenced by the lock; the handler never saw them, so their attempts are recorded as 0.
   */
  async deadLetterInvalid(
    entries: readonly { id: string; validationError?: unknown }[],
  ): Promise<ConsumerDeadLetter[]> {
    const deadLettered = await this.write(
      entries.map(({ id, validationError }) => ({ id, error: validationError })),
      0,
    );
    if (deadLettered.length > 0) {
      this.logger.warn(
        `${this.label}: moved ${deadLettered.length} entr${deadLettered.length === 1 ? 'y' : 'ies'} whose payload ` +
          `failed validation to ${this.stream}.dead: ` +
          deadLettered.map((entry) => `${entry.id} (${entry.error})`).join(', '),
      );
    }
    return deadLettered;
  }

  private async write(
    entries: readonly { id: string; error: unknown }[],
    attempts: number,
  ): Promise<ConsumerDeadLetter[]> {
    const deadLettered: ConsumerDeadLetter[] = [];
    for (const { id, error } of entries) {
      const result = await this.deadLetters.write(
        this.stream,
        id,
        {
          kind: 'consumer',
          consumer: this.consumer,
          member: this.lock.ownerId,
          fence: { lockKey: this.lock.key, ownerId: this.lock.ownerId },
        },
        { error, attempts },
      );
      if (result.status === 'not-owner') {
        this.lock.markLost();
        throw new RedstreamLockLostError(`${this.label} lost its lock before dead-lettering ${id}; not committed`);
      }
      if (result.status === 'written') {
        deadLettered.push({ id, deadLetterId: result.deadLetterId, error: deadLetterErrorMessage(error) });
      }
    }
    return deadLettered;
  }
}
