import type { StreamRef, WorkerRecovery, WorkerStall } from '../../engine';

/**
 * The worker events `@OnRedstreamEvent` listens to, with the arguments the method receives.
 * They are the engine workers' events (`StreamWorkerEvents`, `GroupConsumerEvents`), named
 * the same for every kind of worker.
 */
export interface RedstreamWorkerEventArgs {
  /**
   * The worker works now: a consumer or delayer took its lock (`offset`: it reads after it),
   * a group consumer joined its group (`member`: its member name).
   */
  active: [offsetOrMember: string];
  /** A consumer or delayer lost its lock (or could not keep it) and waits as a hot standby. Never for a group consumer. */
  standby: [reason: string];
  /** A batch or the loop failed (handler threw, Redis unreachable); retried after `retryInMs`. */
  failed: [error: Error, retryInMs: number];
  /**
   * A batch is done: a consumer or delayer committed `lastId` as its offset, a group consumer
   * acknowledged `count` entries up to `lastId` (the engine's `acked`, arguments in this order).
   */
  committed: [lastId: string, count: number];
  /**
   * Entries that could not become messages (no `payload`, not JSON, not an object, or refused
   * by the stream definition's `parse`) were passed over. Consumers and group consumers only.
   */
  rejected: [entries: { id: string; reason: string }[]];
  /** Entries were moved to `<stream>.dead`. Consumers with `deadLetter`, group consumers. */
  deadLettered: [entries: { id: string; deadLetterId: string; error: string }[]];
  /** The same batch (or the loop) has failed for `stalledAfterMs`; once, until `recovered`. */
  stalled: [stall: WorkerStall];
  /** A stalled worker succeeded again. */
  recovered: [recovery: WorkerRecovery];
}

/** An event `@OnRedstreamEvent` can listen to. */
export type RedstreamWorkerEventName = keyof RedstreamWorkerEventArgs;

/** Which worker `@OnRedstreamEvent` listens to. */
export interface OnRedstreamEventOptions {
  /** The worker's stream, by name or definition. */
  stream: StreamRef<object>;
  /**
   * The consumer's name, the group of a `@RedstreamGroupConsumer`, or `'delayer'` for the
   * stream's `@RedstreamDelayer`: a handler of this application, or the bootstrap fails.
   */
  name: string;
}
