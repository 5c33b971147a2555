import { Logger } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { defer, Observable, throwError } from 'rxjs';
import { Producer, Redstream, RedstreamConfigError, validateStreamName } from '../engine';
import { resolveLogger } from '../engine/redstream-context';
import { engineLoggerOf } from '../nest/redstream-nest-logger';
import type { RedstreamClientOptions } from './interfaces/redstream-client-options.interface';
import { REDSTREAM_TRANSPORT_LOGGER_CONTEXT } from './redstream-transport.constants';
import { CLIENT_NOT_CONNECTED, EMIT_DATA_NOT_AN_OBJECT, SEND_NOT_SUPPORTED } from './redstream-transport.messages';

interface Connection {
  readonly redstream: Redstream;
  readonly producer: Producer;
}

/**
 * A NestJS `ClientProxy` that writes events to redstream's streams: `emit('products', { id: 1 })`
 * appends one entry to the stream `products` through the engine's Producer (the gem's format:
 * one `payload` field holding the JSON of `data`), for a {@link RedstreamServer}, a
 * `@RedstreamConsumer` or a Ruby consumer to read. The returned observable emits the new
 * entry's id and completes once Redis has it. `send()` (request/response) is not supported and
 * errors at once.
 *
 * `connect()` only creates the connections (ioredis connects in the background); `emit()`
 * connects on its own. `close()` closes them; a later `emit()` connects again.
 *
 * @example
 * const client = new RedstreamClient({ redis: 'redis://127.0.0.1:6379' });
 * const id = await lastValueFrom(client.emit('products', { id: 42 }));
 * await client.close();
 */
export class RedstreamClient extends ClientProxy {
  private connection?: Connection;
  private closing?: Promise<void>;

  constructor(private readonly options: RedstreamClientOptions = {}) {
    super();
  }

  /** Creates the engine and its Producer, once; resolves with the engine. */
  connect(): Promise<Redstream> {
    try {
      return Promise.resolve(this.connected().redstream);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Closes the connections (a client passed as `redis` stays open). Writes in flight finish
   * first; calls during a close share its promise.
   */
  close(): Promise<void> {
    const connection = this.connection;
    if (!connection) return this.closing ?? Promise.resolve();
    this.connection = undefined;
    const closing = connection.redstream.close().finally(() => {
      if (this.closing === closing) this.closing = undefined;
    });
    this.closing = closing;
    return closing;
  }

  /** The engine the events are written with; throws before `connect()`. */
  unwrap<T = Redstream>(): T {
    if (!this.connection) throw new RedstreamConfigError(CLIENT_NOT_CONNECTED());
    return this.connection.redstream as T;
  }

  /** Not supported: a stream carries no replies. Errors at once, without writing anything. */
  override send<TResult = never, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    void data;
    return throwError(() => new RedstreamConfigError(SEND_NOT_SUPPORTED(this.describePattern(pattern))));
  }

  /**
   * Writes `data` as a *delay message* of the stream `pattern` (`Producer.delay()`): a
   * {@link RedstreamServer} with `delayer` re-queues it onto the stream once it is `delay` old.
   * Emits the delay message's id. Unlike `emit()`, nothing is written until you subscribe.
   */
  delay(pattern: string, data: object): Observable<string> {
    return defer(async () => {
      const stream = this.streamOf(pattern, data);
      const [id] = await this.connected().producer.delay(stream, data);
      return id;
    });
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    // Only reached if Nest routes a request here without send(): answer it with the same error.
    callback({ err: new RedstreamConfigError(SEND_NOT_SUPPORTED(this.describePattern(packet.pattern))) });
    return () => undefined;
  }

  protected async dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const data: unknown = packet.data;
    const stream = this.streamOf(packet.pattern, data);
    const [id] = await this.connected().producer.queue(stream, data as object);
    return id as T;
  }

  private connected(): Connection {
    if (!this.connection) {
      const redstream = new Redstream({
        redis: this.options.redis,
        namespace: this.options.namespace,
        logger: engineLoggerOf(
          resolveLogger(this.options.logger, 'RedstreamClient: logger', new Logger(REDSTREAM_TRANSPORT_LOGGER_CONTEXT)),
        ),
      });
      // A wrong producer option must not leave an engine behind that nothing closes.
      let producer: Producer;
      try {
        producer = redstream.producer(this.options.producer);
      } catch (error) {
        void redstream.close();
        throw error;
      }
      this.connection = { redstream, producer };
    }
    return this.connection;
  }

  /** The stream a pattern names, after checking that `data` can be its payload. */
  private streamOf(pattern: unknown, data: unknown): string {
    const stream = this.describePattern(pattern);
    validateStreamName(stream);
    // An array would be written as one entry per element by the Producer: not what emit() means.
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new RedstreamConfigError(
        EMIT_DATA_NOT_AN_OBJECT(stream, Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data),
      );
    }
    return stream;
  }

  private describePattern(pattern: unknown): string {
    return this.normalizePattern(pattern as Parameters<ClientProxy['normalizePattern']>[0]);
  }
}
