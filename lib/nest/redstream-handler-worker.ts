import type { BatchHandler, HandlerWorker, ResolvedHandlerOptions } from './redstream-handler-kinds';

/**
 * One decorated method in the registry: its resolved options and, when it runs in this
 * process, its engine worker, the same object for the application's life, so that listeners
 * attached through `RedstreamRegistry` stay. Knows whether a batch is in the method now,
 * which is what shutdown waits for.
 */
export class RedstreamHandlerWorker<TWorker extends HandlerWorker = HandlerWorker> {
  private batchesInFlight = 0;
  private readonly current?: TWorker;

  /**
   * @param build builds the engine worker around the batch handler (and validates its options).
   * @param runs false when the handler is disabled or background services are off: built
   *   once to validate, then dropped.
   */
  constructor(
    readonly options: ResolvedHandlerOptions,
    build: (handle: BatchHandler) => TWorker,
    invoke: BatchHandler,
    runs: boolean,
  ) {
    const handle: BatchHandler = async (messages) => {
      this.batchesInFlight++;
      try {
        return await invoke(messages);
      } finally {
        this.batchesInFlight--;
      }
    };
    const worker = build(handle);
    if (runs) this.current = worker;
  }

  /** `Class.method`, for logs. */
  get label(): string {
    return this.options.where;
  }

  /** The engine worker, or undefined when it does not run in this process. */
  get worker(): TWorker | undefined {
    return this.current;
  }

  /** True while the decorated method is working on a batch. */
  get isHandling(): boolean {
    return this.batchesInFlight > 0;
  }

  /** Starts (or resumes) the worker; returns at once. */
  start(): void {
    this.current?.start();
  }

  /** Stops the worker, letting a batch in flight finish and commit. */
  stop(): Promise<void> {
    return this.current?.stop() ?? Promise.resolve();
  }
}
