import { AsyncLocalStorage } from 'node:async_hooks';

const bulkScope = new AsyncLocalStorage<true>();

/** Runs `write` as a bulk write whose messages redstreamBulk() writes itself. */
export function runInsideRedstreamBulk<T>(write: () => T): T {
  return bulkScope.run(true, write);
}

/** Whether the current async context is inside redstreamBulk()'s write. */
export function insideRedstreamBulk(): boolean {
  return bulkScope.getStore() === true;
}
