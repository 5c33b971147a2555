import { RedstreamHandlerTimeoutError } from './errors';
import type { RedstreamMessage } from './interfaces/redstream-message.interface';
import type { WorkerTelemetry } from './telemetry/redstream-telemetry';
import { withTimeout } from './with-timeout';

/**
 * One handler call of a Consumer or GroupConsumer on `messages`: a synchronous throw becomes a
 * rejection, a call that outlives `timeoutMs` rejects with RedstreamHandlerTimeoutError (the
 * handler itself is not cancelled), and `telemetry` times the call as it settles.
 */
export function callHandler<TMessage extends RedstreamMessage<object>>(
  handler: (messages: TMessage[]) => unknown,
  messages: TMessage[],
  timeoutMs: number | undefined,
  telemetry: WorkerTelemetry,
): Promise<unknown> {
  const result = Promise.resolve().then(() => handler(messages));
  const bounded =
    timeoutMs === undefined
      ? result
      : withTimeout(result, timeoutMs, () => {
          throw new RedstreamHandlerTimeoutError(`handler did not settle within ${timeoutMs} ms`);
        });
  return telemetry.handlerCall(messages, bounded);
}
