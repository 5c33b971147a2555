import { Redstream, RedstreamPayload } from '../../../lib/engine';

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

export { RecordingLogger } from '../../support/recording-logger';
