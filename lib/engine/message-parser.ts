import type { RedstreamMessage, RedstreamPayload } from './interfaces/redstream-message.interface';
import { validationFailure } from './stream-definition';

/** A stream entry as ioredis returns it: `[id, [field, value, field, value, ...]]`. */
export type RawStreamEntry = [id: string, fields: string[]];

/** An entry that could not become a message, with the reason. */
export interface RejectedEntry {
  id: string;
  reason: string;
  /**
   * Set when the entry was JSON but its stream definition's `parse` refused it: what `parse`
   * threw. Such entries go to `<stream>.dead` when dead letters are on (an operator can fix the
   * schema and replay them); an entry that is not JSON never could be handled.
   */
  validationError?: unknown;
}

export interface ParsedBatch<TPayload extends object> {
  messages: RedstreamMessage<TPayload>[];
  rejected: RejectedEntry[];
}

function fieldsOf(raw: readonly string[]): Record<string, string> {
  // Nearly every entry is the gem's single `payload` field: a literal with a constant key
  // spares V8 turning each reply's field name into a property key (measured in bench/).
  if (raw.length === 2 && raw[0] === 'payload') return { payload: raw[1] };
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]] = raw[i + 1];
  return fields;
}

/** The `payload` field's value, without building the fields object. */
export function payloadFieldOf(raw: readonly string[]): string | undefined {
  if (raw.length === 2) return raw[0] === 'payload' ? raw[1] : undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i] === 'payload') return raw[i + 1];
  return undefined;
}

/**
 * A message as handlers get it. `fields` is built on first access: handlers rarely read it,
 * and one object less per entry is a measurable share of a consumer's time (bench/).
 * `toJSON()` keeps logging and serialising it as the plain `{ id, stream, payload, fields }`.
 */
class StreamMessage<TPayload extends object> implements RedstreamMessage<TPayload> {
  readonly #rawFields: readonly string[];
  #fields?: Readonly<Record<string, string>>;

  constructor(
    readonly id: string,
    readonly stream: string,
    readonly payload: TPayload,
    rawFields: readonly string[],
  ) {
    this.#rawFields = rawFields;
  }

  get fields(): Readonly<Record<string, string>> {
    return (this.#fields ??= fieldsOf(this.#rawFields));
  }

  toJSON(): RedstreamMessage<TPayload> {
    return { id: this.id, stream: this.stream, payload: this.payload, fields: this.fields };
  }
}

/**
 * Turns raw entries into messages. An entry whose `payload` field is missing, is not
 * JSON, or is JSON but not an object is rejected (with the reason), never thrown: one
 * bad entry must not stall the stream. With `parse` (a stream definition's), each payload
 * is also passed through it: a throw, or a result that is not an object, rejects the entry,
 * and the message carries what it returned.
 */
export function parseStreamEntries<TPayload extends object = RedstreamPayload>(
  stream: string,
  entries: readonly RawStreamEntry[],
  parse?: (payload: unknown) => TPayload,
): ParsedBatch<TPayload> {
  const messages: RedstreamMessage<TPayload>[] = [];
  const rejected: RejectedEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const id = entry[0];
    const rawFields = entry[1] ?? [];
    const raw = payloadFieldOf(rawFields);
    if (raw === undefined) {
      rejected.push({ id, reason: 'the entry has no "payload" field' });
      continue;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch (error) {
      rejected.push({ id, reason: `"payload" is not JSON (${(error as Error).message})` });
      continue;
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      rejected.push({ id, reason: '"payload" is JSON but not an object' });
      continue;
    }
    if (parse) {
      try {
        payload = parse(payload);
      } catch (thrown) {
        // `throw undefined` still marks the entry as refused by parse.
        const error = thrown === undefined ? new Error('parse threw undefined') : thrown;
        rejected.push({
          id,
          reason: `"payload" failed validation: ${validationFailure(error)}`,
          validationError: error,
        });
        continue;
      }
      if (payload === null || typeof payload !== 'object') {
        const error = new TypeError(
          `the stream's parse returned ${payload === null ? 'null' : typeof payload}, not an object`,
        );
        rejected.push({ id, reason: `"payload" failed validation: ${error.message}`, validationError: error });
        continue;
      }
    }
    messages.push(new StreamMessage(id, stream, payload as TPayload, rawFields));
  }
  return { messages, rejected };
}
