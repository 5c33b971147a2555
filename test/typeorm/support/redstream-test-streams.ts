import { Redstream, RedstreamLogger, RedstreamPayload } from '../../../lib/engine';

/** The payloads in a stream, oldest first. */
export async function streamPayloads(redstream: Redstream, stream: string): Promise<RedstreamPayload[]> {
  return readPayloads(redstream, redstream.keys.stream(stream));
}

/** The payloads waiting in a stream's delay stream, oldest first. */
export async function delayPayloads(redstream: Redstream, stream: string): Promise<RedstreamPayload[]> {
  return readPayloads(redstream, redstream.keys.delayStream(stream));
}

async function readPayloads(redstream: Redstream, key: string): Promise<RedstreamPayload[]> {
  const entries = await redstream.client.xrange(key, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('payload') + 1]) as RedstreamPayload);
}

/** A logger that keeps what it is told, for assertions. */
export class RecordingLogger implements RedstreamLogger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  log(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
}
