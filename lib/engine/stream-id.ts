import { RedstreamConfigError } from './errors';

/** A Redis stream id split into its numeric parts. `seq` may exceed 2^53, so both are bigint. */
export interface ParsedStreamId {
  ms: bigint;
  seq: bigint;
}

const STREAM_ID = /^(\d+)(?:-(\d+))?$/;

export function parseStreamId(id: string): ParsedStreamId {
  const match = STREAM_ID.exec(id);
  if (!match) throw new RedstreamConfigError(`"${id}" is not a Redis stream id (expected <ms>-<seq>)`);
  return { ms: BigInt(match[1]), seq: BigInt(match[2] ?? '0') };
}

export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

/**
 * Compares two stream ids numerically. String comparison is wrong for stream ids:
 * "5-10" sorts before "5-9", and "10-0" before "9-0".
 */
export function compareStreamIds(a: string, b: string): number {
  const left = parseStreamId(a);
  const right = parseStreamId(b);
  if (left.ms !== right.ms) return left.ms < right.ms ? -1 : 1;
  if (left.seq !== right.seq) return left.seq < right.seq ? -1 : 1;
  return 0;
}

/** The smallest of the given ids, compared numerically; undefined for an empty list. */
export function minStreamId(ids: readonly string[]): string | undefined {
  let min: string | undefined;
  for (const id of ids) if (min === undefined || compareStreamIds(id, min) < 0) min = id;
  return min;
}

/** The id right after `id`: the exclusive lower bound for "everything newer than id". */
export function nextStreamId(id: string): string {
  const { ms, seq } = parseStreamId(id);
  return seq === 0xffffffffffffffffn ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}

/** Milliseconds since the epoch at which Redis created the entry with this id. */
export function streamIdTimestamp(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash === -1 ? id : id.slice(0, dash));
}
