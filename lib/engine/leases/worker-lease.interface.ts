/**
 * What decides whether a {@link BackgroundWorker} may work, and keeps that right alive while
 * it does. The loop asks `isHeld()` before every step; when it says no, the loop asks Redis
 * (`confirm()`) if it was working, else tries `acquire()`, and waits with `waitForTurn()`
 * when the lease is taken.
 *
 * The single-owner lock with hot standbys is one lease ({@link SingleOwnerLease}). A worker
 * that is active on every instance at once (a consumer-group member) plugs in a lease that is
 * always held, or one whose keep-alive is a membership heartbeat: `acquire()` registers,
 * `keepAlive()` renews, `release()` leaves, and `waitForTurn()` is never needed.
 */
export interface WorkerLease {
  /** True while this instance may work without asking Redis first; cheap, called on every step. */
  isHeld(): boolean;
  /** Takes the lease if it is free (or already ours); true when held. Starts no keep-alive. */
  acquire(): Promise<boolean>;
  /**
   * Asks Redis whether a lease the local clock no longer vouches for is still ours, and
   * extends it if so; false when it was lost.
   */
  confirm(): Promise<boolean>;
  /**
   * Keeps a held lease alive in the background until `markLost()` or `release()`. A renewal
   * that finds the lease gone marks it lost; one that fails on the network goes to `onError`
   * and is tried again (the local lease decides meanwhile).
   */
  keepAlive(onError: (error: Error) => void): void;
  /** Forgets the lease locally and stops keeping it alive: a fenced write was refused, or the worker stands by. */
  markLost(): void;
  /**
   * Waits while another instance holds the lease: until it may be free or a poll interval
   * passed. Resolves either way (the loop then tries `acquire()` again); must end at once
   * when `signal` aborts or the worker's blocking reader is interrupted.
   */
  waitForTurn(signal: AbortSignal): Promise<void>;
  /**
   * Why the lease was lost, when the lease can tell from this process (e.g. the event loop
   * was blocked past its ttl); undefined otherwise. Appended to the standby and lock-lost lines.
   */
  describeLoss?(): string | undefined;
  /** Gives the lease up if held (waking a waiting instance) as the worker stops. Never throws. */
  release(): Promise<void>;
  /**
   * True when the lease wants to be handed over while the worker runs (a balanced shard lease
   * whose instance owns more than its share): the loop asks after every step, then calls
   * `handOver()` and goes back to waiting for its turn. Absent: never.
   */
  wantsHandOver?(): boolean;
  /**
   * Calls `listener` once when `wantsHandOver()` becomes true (at once if it is), so that a
   * worker waiting for entries on an idle stream hands over at once instead of after its
   * blocking read; returns the unsubscribe function. Absent: never.
   */
  onHandOverRequested?(listener: () => void): () => void;
  /**
   * Gives the lease up while the worker keeps running (a standby from now on), waking a
   * waiting instance; resolves with the reason for the `standby` event and log line.
   */
  handOver?(): Promise<string>;
}
