import type { RedstreamConsumerOptions } from './redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './redstream-delayer-options.interface';
import type { RedstreamGroupConsumerOptions } from './redstream-group-consumer-options.interface';

/** A decorated method found by the explorer. */
export interface DiscoveredHandler<
  TOptions extends object =
    RedstreamConsumerOptions<object> | RedstreamDelayerOptions | RedstreamGroupConsumerOptions<object>,
> {
  /** The provider instance the method runs on (`this`). */
  readonly instance: object;
  readonly methodName: string;
  /** `Class.method`, for error messages and logs. */
  readonly where: string;
  /** The key of the module that provides the instance: its exception filters are resolved there. */
  readonly moduleKey?: string;
  /** The decorator's options as written. */
  readonly options: Partial<TOptions>;
}
