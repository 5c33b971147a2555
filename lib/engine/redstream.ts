import { Consumer } from './consumer';
import { Delayer } from './delayer';
import type { ConsumerOptions } from './interfaces/consumer-options.interface';
import type { DelayerOptions } from './interfaces/delayer-options.interface';
import type { ProducerOptions } from './interfaces/producer-options.interface';
import type { RedstreamPayload } from './interfaces/redstream-message.interface';
import type { RedstreamOptions } from './interfaces/redstream-options.interface';
import type { TrimmerOptions } from './interfaces/trimmer-options.interface';
import { Producer } from './producer';
import { RedisConnectionFactory, RedisClient } from './redis-connection';
import { consoleLogger, RedstreamContext } from './redstream-context';
import { RedstreamKeys, validateConsumerName, validateStreamName } from './redstream-keys';
import { Trimmer } from './trimmer';

/**
 * The engine without Nest: one per application and Redis. It owns the connections and
 * creates producers, consumers, delayers and trimmers that share them.
 *
 * @example
 * const redstream = new Redstream({ redis: 'redis://127.0.0.1:6379' });
 * const producer = redstream.producer();
 * const indexer = redstream.consumer({ stream: 'products', name: 'indexer', handler: async (messages) => { ... } });
 * indexer.start();
 * // on shutdown
 * await indexer.stop();
 * await redstream.close();
 */
export class Redstream implements RedstreamContext {
  readonly keys: RedstreamKeys;
  readonly connections: RedisConnectionFactory;
  readonly logger;
  private closing?: Promise<void>;

  constructor(options: RedstreamOptions = {}) {
    this.keys = new RedstreamKeys(options.namespace);
    this.logger = options.logger ?? consoleLogger;
    this.connections = new RedisConnectionFactory(options.redis ?? 'redis://127.0.0.1:6379', this.logger);
  }

  /** The shared connection for ordinary commands. */
  get client(): RedisClient {
    return this.connections.client();
  }

  producer(options?: ProducerOptions): Producer {
    return new Producer(this, options);
  }

  consumer<TPayload extends object = RedstreamPayload>(options: ConsumerOptions<TPayload>): Consumer<TPayload> {
    return new Consumer<TPayload>(this, options);
  }

  delayer(options: DelayerOptions): Delayer {
    return new Delayer(this, options);
  }

  trimmer(options: TrimmerOptions): Trimmer {
    return new Trimmer(this, options);
  }

  /** Number of entries in a stream. */
  async streamLength(stream: string): Promise<number> {
    return this.client.xlen(this.keys.stream(validateStreamName(stream)));
  }

  /** Number of entries waiting in a stream's delay stream. */
  async delayStreamLength(stream: string): Promise<number> {
    return this.client.xlen(this.keys.delayStream(validateStreamName(stream)));
  }

  /** The offset a consumer committed, or null before its first commit. */
  async committedOffset(stream: string, consumer: string): Promise<string | null> {
    return this.client.get(this.keys.offset(validateStreamName(stream), validateConsumerName(consumer)));
  }

  /** Consumer names registered on a stream (read by the trimmer). */
  async registeredConsumers(stream: string): Promise<string[]> {
    return (await this.client.smembers(this.keys.consumerRegistry(validateStreamName(stream)))).sort();
  }

  /**
   * Removes a consumer name from a stream's registry, so the trimmer stops waiting for it.
   * Do this only for a consumer that is gone for good; its offset stays until you delete it.
   */
  async forgetConsumer(stream: string, consumer: string): Promise<void> {
    await this.client.srem(this.keys.consumerRegistry(validateStreamName(stream)), validateConsumerName(consumer));
  }

  /** Closes the connections this instance opened (a supplied client stays open). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.connections.close();
    return this.closing;
  }
}
