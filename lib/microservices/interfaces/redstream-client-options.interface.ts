import type { ProducerOptions } from '../../engine';
import type { RedstreamTransportConnectionOptions } from './redstream-transport-connection-options.interface';

/** Options of {@link RedstreamClient}. */
export interface RedstreamClientOptions extends RedstreamTransportConnectionOptions {
  /** Options of the engine Producer that writes the events (`commandTimeoutMs`, `wait`...). */
  producer?: ProducerOptions;
}
