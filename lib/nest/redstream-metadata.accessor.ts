import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { RedstreamConsumerOptions } from './interfaces/redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './interfaces/redstream-delayer-options.interface';
import type { RedstreamGroupConsumerOptions } from './interfaces/redstream-group-consumer-options.interface';
import type { RedstreamEventListenerMetadata } from './decorators/on-redstream-event.decorator';
import {
  REDSTREAM_CONSUMER_METADATA,
  REDSTREAM_EVENT_LISTENER_METADATA,
  REDSTREAM_DELAYER_METADATA,
  REDSTREAM_GROUP_CONSUMER_METADATA,
} from './redstream.constants';

/** Reads what the Redstream decorators recorded on a method. */
@Injectable()
export class RedstreamMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getConsumerOptions(method: unknown): Partial<RedstreamConsumerOptions> | undefined {
    return this.get<RedstreamConsumerOptions>(REDSTREAM_CONSUMER_METADATA, method);
  }

  getDelayerOptions(method: unknown): Partial<RedstreamDelayerOptions> | undefined {
    return this.get<RedstreamDelayerOptions>(REDSTREAM_DELAYER_METADATA, method);
  }

  getGroupConsumerOptions(method: unknown): Partial<RedstreamGroupConsumerOptions> | undefined {
    return this.get<RedstreamGroupConsumerOptions>(REDSTREAM_GROUP_CONSUMER_METADATA, method);
  }

  /** What every `@OnRedstreamEvent` on the method recorded (none: an empty array). */
  getEventListeners(method: unknown): readonly RedstreamEventListenerMetadata[] {
    if (typeof method !== 'function') return [];
    return (
      this.reflector.get<readonly RedstreamEventListenerMetadata[] | undefined>(
        REDSTREAM_EVENT_LISTENER_METADATA,
        method,
      ) ?? []
    );
  }

  private get<TOptions>(key: string, method: unknown): Partial<TOptions> | undefined {
    // An instance property may shadow a prototype method under the same name.
    return typeof method === 'function' ? this.reflector.get<Partial<TOptions>>(key, method) : undefined;
  }
}
