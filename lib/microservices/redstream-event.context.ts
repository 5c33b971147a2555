import { BaseRpcContext } from '@nestjs/microservices';
import type { RedstreamMessage, RedstreamPayload } from '../engine';

/** The arguments a {@link RedstreamEventContext} carries. */
export type RedstreamEventContextArgs = [message: RedstreamMessage<RedstreamPayload>, pattern: string];

/**
 * What `@Ctx()` gives an `@EventPattern` handler of {@link RedstreamServer}: the stream entry
 * being handled, whose payload is the handler's data.
 */
export class RedstreamEventContext extends BaseRpcContext<RedstreamEventContextArgs> {
  /** The whole message: id, stream, parsed payload and raw fields. */
  getMessage(): RedstreamMessage<RedstreamPayload> {
    return this.args[0];
  }

  /** The stream entry id (`<ms>-<seq>`), unique in the stream: a key to make the handler idempotent. */
  getId(): string {
    return this.args[0].id;
  }

  /** The pattern the handler was registered for, which is the stream's name. */
  getPattern(): string {
    return this.args[1];
  }
}
