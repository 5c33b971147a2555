import { RedstreamConfigError, RedstreamGroupMissingError } from './errors';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import { RedisClient, sendKeyed } from './redis-connection';
import { scripts } from './scripts';

/**
 * Where a new consumer group starts: `'begin'` delivers every entry already in the stream
 * (nothing written before the first deploy is lost), `'end'` only entries written after the
 * group was created.
 */
export type GroupStartAt = 'begin' | 'end';

/** The default {@link GroupStartAt}: nothing written before the first deploy is lost. */
export const DEFAULT_GROUP_START_AT: GroupStartAt = 'begin';

/** Throws RedstreamConfigError unless `value` is undefined, `'begin'` or `'end'`. */
export function resolveGroupStartAt(value: unknown, where: string): GroupStartAt {
  if (value === undefined) return DEFAULT_GROUP_START_AT;
  if (value !== 'begin' && value !== 'end') {
    throw new RedstreamConfigError(`${where}: startAt must be 'begin' or 'end', got ${JSON.stringify(value)}`);
  }
  return value;
}

export { RedstreamGroupMissingError };

/**
 * True for Redis's NOGROUP reply: the group (or the whole stream) does not exist. A script's
 * reply arrives wrapped in a RedstreamScriptError, with Redis's reply as its cause.
 */
export function isNoGroupError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.message.startsWith('NOGROUP') || (error.cause !== undefined && isNoGroupError(error.cause));
}

function isBusyGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP');
}

/** The group one member belongs to. */
export interface GroupMembershipTarget {
  /** The stream's Redis key (`<base>:stream:<stream>`). */
  streamKey: string;
  group: string;
  /** This instance's member name, see `memberName()`. */
  member: string;
  /** Where the group starts when this member creates it first. Default `'begin'`. */
  startAt?: GroupStartAt;
}

/**
 * One member's dealings with its consumer group as a whole: creating it idempotently,
 * recreating it when it was deleted by hand under a running member, and removing members
 * that are gone. Reading and acknowledging belong to {@link GroupReader}.
 */
export class GroupMembership {
  readonly streamKey: string;
  readonly group: string;
  readonly member: string;
  readonly startAt: GroupStartAt;

  constructor(
    private readonly client: RedisClient,
    target: GroupMembershipTarget,
    private readonly logger: RedstreamLogger,
    /** How the owner is named in logs, e.g. `GroupConsumer products:indexers`. */
    private readonly label: string,
  ) {
    this.streamKey = target.streamKey;
    this.group = target.group;
    this.member = target.member;
    this.startAt = resolveGroupStartAt(target.startAt, label);
  }

  /**
   * Creates the group (and the stream, MKSTREAM) unless it exists. Idempotent and safe
   * among many members starting at once: exactly one of them gets `'created'`.
   */
  async ensureGroup(startAt: GroupStartAt = this.startAt): Promise<'created' | 'exists'> {
    try {
      await sendKeyed(this.client, 'xgroup', this.streamKey, [
        'CREATE',
        this.streamKey,
        this.group,
        startAt === 'begin' ? '0' : '$',
        'MKSTREAM',
      ]);
      return 'created';
    } catch (error) {
      if (isBusyGroupError(error)) return 'exists';
      throw error;
    }
  }

  /**
   * Runs a group command (XREADGROUP, XACK, XAUTOCLAIM...); when Redis answers NOGROUP (the
   * group or the stream was deleted under this running member), recreates the group and
   * runs the command once more. The group is recreated from the start of the stream
   * whatever `startAt` said: its pending entries went with it, and the entries still in the
   * stream are the only copy left, so they are delivered again (at least once) rather than
   * skipped. A command that still gets NOGROUP throws RedstreamGroupMissingError, so the
   * caller backs off and retries instead of spinning.
   */
  async withGroup<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (!isNoGroupError(error)) throw error;
      await this.recreate();
    }
    try {
      return await command();
    } catch (error) {
      if (!isNoGroupError(error)) throw error;
      throw new RedstreamGroupMissingError(
        `${this.label}: consumer group "${this.group}" on ${this.streamKey} disappeared again right after it was recreated`,
        { cause: error },
      );
    }
  }

  /**
   * Removes the members (other than this one) idle for at least `forgetIdleMs` that hold no
   * pending entries, atomically: a member that holds entries is never removed, as its
   * entries would be lost with it. Returns the removed names.
   */
  async forgetIdleMembers(forgetIdleMs: number): Promise<string[]> {
    const removed = (await this.withGroup(() =>
      scripts.forgetIdleMembers.run(this.client, [this.streamKey], [this.group, forgetIdleMs, this.member]),
    )) as string[];
    if (removed.length > 0) {
      this.logger.log(
        `${this.label}: removed ${removed.length} member(s) idle for ${forgetIdleMs} ms or more without pending entries: ${removed.join(', ')}`,
      );
    }
    return removed;
  }

  /**
   * Removes this member from the group on a graceful stop, unless it still holds pending
   * entries (they stay for another member to claim). True when removed. A missing group is
   * not recreated for this.
   */
  async leave(): Promise<boolean> {
    try {
      return (await scripts.leaveGroup.run(this.client, [this.streamKey], [this.group, this.member])) === 1;
    } catch (error) {
      if (isNoGroupError(error)) return false;
      throw error;
    }
  }

  private async recreate(): Promise<void> {
    if ((await this.ensureGroup('begin')) === 'created') {
      this.logger.warn(
        `${this.label}: consumer group "${this.group}" on ${this.streamKey} was deleted while member ${this.member} was running; ` +
          'recreated it from the start of the stream: the entries still in the stream are delivered again',
      );
    } else {
      this.logger.debug?.(`${this.label}: consumer group "${this.group}" was recreated by another member`);
    }
  }
}
