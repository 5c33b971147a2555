/**
 * Settles as `work` does, unless `ms` pass first: then settles as `onTimeout` does (its return
 * value resolves, its throw rejects). The timer is cleared either way, so a finished `work`
 * never keeps the process alive. `work` itself is not cancelled; callers that can interrupt
 * it do so in `onTimeout`.
 */
export function withTimeout<T, U = never>(work: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  if (ms === Infinity) return work;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error as Error);
      }
    }, ms);
  });
  return Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
}
