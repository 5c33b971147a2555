/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in stream entries: the producer adds
 * a `traceparent` field (and `tracestate` when there is one) after `payload`, only while a
 * span is recording or sampled, so the gem's single-field wire format is unchanged otherwise.
 */
export const TRACEPARENT_FIELD = 'traceparent';
export const TRACESTATE_FIELD = 'tracestate';

/** The parts of a `traceparent` value. */
export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The parts of a `traceparent` value; undefined for anything malformed (an entry written by
 * someone else must not fail a batch). Later versions are read as version 00, as the spec says.
 */
export function parseTraceparent(value: string): ParsedTraceparent | undefined {
  if (value.length < 55 || (value.length > 55 && value[55] !== '-')) return undefined;
  const version = value.slice(0, 2);
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  if (!HEX.test(version) || version === 'ff' || (version === '00' && value.length !== 55)) return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/**
 * The `traceparent` and `tracestate` values of an entry's raw fields, or undefined. An entry
 * with only `payload` (the default wire format, and every gem entry) costs one length check.
 */
export function traceFieldsOf(raw: readonly string[]): { traceparent: string; tracestate?: string } | undefined {
  if (raw.length <= 2) return undefined;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i] === TRACEPARENT_FIELD) traceparent = raw[i + 1];
    else if (raw[i] === TRACESTATE_FIELD) tracestate = raw[i + 1];
  }
  return traceparent === undefined ? undefined : { traceparent, tracestate };
}
