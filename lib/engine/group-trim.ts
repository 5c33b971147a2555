import type { RedisClient } from './redis-connection';
import type { RedstreamKeys } from './redstream-keys';
import { scripts } from './scripts';

/** What one {@link trimBelowReaders} call did. */
export type GroupTrimResult =
  | { trimmed: number }
  /**
   * Nothing trimmed: an offset consumer has no committed offset yet, the consumer registry
   * named a consumer the caller did not pass (read it again and retry), or a required group
   * does not exist yet.
   */
  | { trimmed: 0; skipped: 'consumer-without-offset' | 'registry-changed' | 'group-missing' };

const SKIPPED = {
  [-1]: 'consumer-without-offset',
  [-2]: 'registry-changed',
  [-3]: 'group-missing',
} as const;

/**
 * Trims `stream` below what every reader still needs, in one script: each consumer group's
 * last-delivered id and oldest pending id (groups are read from the stream) and each offset
 * consumer's committed offset. `consumers` must hold every name of the stream's consumer
 * registry; `requiredGroups` are groups configured but maybe not created yet, which block
 * trimming until they exist (they start at the beginning of the stream).
 */
export async function trimBelowReaders(
  client: RedisClient,
  keys: RedstreamKeys,
  stream: string,
  readers: TrimReaders,
): Promise<GroupTrimResult> {
  const result = Number(await runTrim(client, keys, stream, readers, 'trim'));
  if (result >= 0) return { trimmed: result };
  return { trimmed: 0, skipped: SKIPPED[result as keyof typeof SKIPPED] };
}

/** Who reads a stream, for {@link trimBelowReaders} and {@link planTrimBelowReaders}. */
export interface TrimReaders {
  consumers: readonly string[];
  requiredGroups?: readonly string[];
}

/**
 * What {@link trimBelowReaders} would delete now, deleting nothing: the entries below `bound`
 * (and `bound` itself when `inclusive`); `bound` undefined when nothing would go.
 */
export type GroupTrimPlan =
  | { bound?: string; inclusive: boolean }
  | { skipped: 'consumer-without-offset' | 'registry-changed' | 'group-missing' };

/** The same script as {@link trimBelowReaders} in its dry-run mode, so that both agree on the bound. */
export async function planTrimBelowReaders(
  client: RedisClient,
  keys: RedstreamKeys,
  stream: string,
  readers: TrimReaders,
): Promise<GroupTrimPlan> {
  const result = (await runTrim(client, keys, stream, readers, 'plan')) as number | [string, number];
  if (Array.isArray(result)) return { bound: result[0], inclusive: Number(result[1]) === 1 };
  if (result >= 0) return { inclusive: false };
  return { skipped: SKIPPED[result as keyof typeof SKIPPED] };
}

function runTrim(
  client: RedisClient,
  keys: RedstreamKeys,
  stream: string,
  { consumers, requiredGroups = [] }: TrimReaders,
  mode: 'trim' | 'plan',
): Promise<unknown> {
  return scripts.trimWithGroups.run(
    client,
    [keys.stream(stream), keys.consumerRegistry(stream), ...consumers.map((name) => keys.offset(stream, name))],
    [consumers.length, mode, ...consumers, ...requiredGroups],
  );
}
