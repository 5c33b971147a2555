import type { WriteRequest } from './write-request';

/**
 * Bounds every unsettled write request by its deadline with a single timer at the oldest
 * deadline, instead of a timer per call. Requests are watched in call order (their deadlines
 * grow with it); settled ones are dropped lazily.
 */
export class WriteDeadlines {
  private watched: WriteRequest[] = [];
  private watchedHead = 0;
  private unsettled = 0;
  private timer?: NodeJS.Timeout;

  /** `onOverdue` must settle the request it gets (through `settle()`). */
  constructor(private readonly onOverdue: (request: WriteRequest) => void) {}

  watch(request: WriteRequest): void {
    this.watched.push(request);
    this.unsettled++;
    if (!this.timer) this.arm(request.deadline);
  }

  /** Marks the request settled; the last one stops the timer. */
  settle(request: WriteRequest): void {
    request.settled = true;
    this.unsettled--;
    if (this.unsettled === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.watched = [];
      this.watchedHead = 0;
    }
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(() => this.expireOverdue(), Math.max(1, deadline - performance.now()));
  }

  private expireOverdue(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.watchedHead < this.watched.length) {
      const request = this.watched[this.watchedHead];
      if (!request.settled) {
        if (request.deadline > now) {
          this.arm(request.deadline);
          break;
        }
        this.onOverdue(request);
        // settle() has reset the list when this was the last unsettled request.
        if (this.unsettled === 0) return;
      }
      this.watchedHead++;
    }
    if (this.watchedHead > 1_000 && this.watchedHead * 2 > this.watched.length) {
      this.watched = this.watched.slice(this.watchedHead);
      this.watchedHead = 0;
    }
  }
}
