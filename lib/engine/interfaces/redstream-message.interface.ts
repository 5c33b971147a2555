/** The JSON object a message carries; the gem's default is `{ "id": <record id> }`. */
export type RedstreamPayload = Record<string, unknown>;

/** One stream entry as handed to a consumer's handler. */
export interface RedstreamMessage<TPayload extends object = RedstreamPayload> {
  /** The stream entry id (`<ms>-<seq>`), which is also the consumer's offset after this message. */
  readonly id: string;
  /** The stream name (without key prefix), e.g. `products`. */
  readonly stream: string;
  /** The parsed JSON of the `payload` field. */
  readonly payload: TPayload;
  /** The entry's raw fields as stored in Redis. */
  readonly fields: Readonly<Record<string, string>>;
}
