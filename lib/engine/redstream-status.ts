import type { Cluster } from 'ioredis';
import { RedstreamConfigError } from './errors';
import { recordOf, XinfoGroupRecord } from './group-info';
import type {
  ConsumerStatus,
  GroupStatus,
  RedstreamStatus,
  StatusOptions,
  StreamStatus,
} from './interfaces/redstream-status.interface';
import { positiveInteger } from './option-validation';
import { RedisClient, sendKeyed } from './redis-connection';
import {
  consumerLockName,
  DEAD_LETTER_STREAM_SUFFIX,
  DELAY_STREAM_SUFFIX,
  RedstreamKeys,
  validateConsumerName,
  validateGroupName,
  validateStreamName,
} from './redstream-keys';
import { DEFAULT_LAG_MAX_COUNT, StreamLagReader } from './stream-lag';

/** Keys asked for per SCAN call: few round trips, each short for Redis. */
const SCAN_COUNT = 1_000;

/** What a SCAN of the namespace found: stream names, and the consumers with an offset per stream. */
interface NamespaceInventory {
  streams: string[];
  /** Stream name to the consumer names that have an offset key on it. */
  offsetConsumers: Map<string, Set<string>>;
}

/**
 * Collects `Redstream.status()`: discovers the streams of a namespace with one SCAN of its
 * keys and reads, for each, its length, delay backlog, dead letters, offset consumers (lag,
 * lock owner) and consumer groups. Every command of a call is sent at once (the shared
 * connection pipelines them), so a status costs a few round trips plus the SCAN, which walks
 * Redis's whole keyspace (SCAN cannot do otherwise) in steps of 1,000 keys.
 */
export class StatusCollector {
  private readonly lagReader: StreamLagReader;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedstreamKeys,
  ) {
    this.lagReader = new StreamLagReader(client, keys);
  }

  async status(options: StatusOptions = {}): Promise<RedstreamStatus> {
    const maxLagCount =
      options.maxLagCount === undefined
        ? DEFAULT_LAG_MAX_COUNT
        : positiveInteger(options.maxLagCount, 'Redstream.status: maxLagCount');
    const requested = requestedStreams(options.streams);
    const inventory = await this.inventory();
    const names = requested ?? inventory.streams;
    const streams = await Promise.all(
      names.map((stream) => this.streamStatus(stream, inventory.offsetConsumers.get(stream), maxLagCount)),
    );
    return { streams };
  }

  /**
   * The streams of the namespace: every `<base>:stream:<name>` key (a `.delay` or `.dead` key
   * names its stream), every consumer registry and every offset key. Keys of other namespaces
   * never match: the rest of a key after `<base>:` would hold a ':' a name cannot contain.
   */
  private async inventory(): Promise<NamespaceInventory> {
    const streams = new Set<string>();
    const offsetConsumers = new Map<string, Set<string>>();
    const prefix = `${this.keys.base}:`;
    for (const key of await scanKeys(this.client, `${prefix}*`)) {
      const [kind, ...parts] = key.slice(prefix.length).split(':');
      if (kind === 'stream' && parts.length === 1) {
        const stream = streamOf(parts[0]);
        if (stream) streams.add(stream);
      } else if (kind === 'consumers' && parts.length === 1) {
        const stream = streamOf(parts[0]);
        if (stream === parts[0]) streams.add(stream);
      } else if (kind === 'offset' && parts.length === 2) {
        // `<stream>.delay:delayer` is the Delayer's offset, shown as the stream's delay backlog.
        const [stream, consumer] = parts;
        if (streamOf(stream) !== stream || !isValid(validateConsumerName, consumer)) continue;
        streams.add(stream);
        const consumers = offsetConsumers.get(stream) ?? new Set<string>();
        offsetConsumers.set(stream, consumers.add(consumer));
      }
    }
    return { streams: [...streams].sort(), offsetConsumers };
  }

  private async streamStatus(
    stream: string,
    offsetConsumers: Set<string> | undefined,
    maxLagCount: number,
  ): Promise<StreamStatus> {
    const streamKey = this.keys.stream(stream);
    const [length, backlog, deadLetters, registered, groups] = await Promise.all([
      this.client.xlen(streamKey),
      this.lagReader.delayBacklog(stream),
      this.client.xlen(this.keys.deadLetterStream(stream)),
      this.client.smembers(this.keys.consumerRegistry(stream)),
      this.groupsOf(streamKey),
    ]);
    const consumerNames = [...new Set([...registered, ...(offsetConsumers ?? [])])]
      .filter((name) => isValid(validateConsumerName, name))
      .sort();
    const [consumers, groupStatuses] = await Promise.all([
      Promise.all(consumerNames.map((name) => this.consumerStatus(stream, name, maxLagCount))),
      Promise.all(groups.map((group) => this.groupStatus(stream, group, maxLagCount))),
    ]);
    return {
      stream,
      length,
      delayBacklog: { entries: backlog.entries, oldestAgeMs: backlog.oldestAgeMs },
      deadLetters,
      consumers,
      groups: groupStatuses.filter((group): group is GroupStatus => group !== undefined),
    };
  }

  private async consumerStatus(stream: string, name: string, maxCount: number): Promise<ConsumerStatus> {
    const [lag, owner] = await Promise.all([
      this.lagReader.consumerLag(stream, name, { maxCount }),
      this.client.get(this.keys.lock(consumerLockName(stream, name))),
    ]);
    return {
      name,
      offset: lag.offset,
      lag: lag.entries,
      lagMs: lag.oldestAgeMs,
      active: owner !== null,
      ...(owner === null ? {} : { owner }),
    };
  }

  private async groupStatus(stream: string, group: GroupRecord, maxCount: number): Promise<GroupStatus | undefined> {
    const base = { name: group.name, consumers: group.consumers, lastDeliveredId: group.lastDeliveredId };
    // A group created by hand may have a name our key layout rejects: shown from XINFO alone.
    if (!isValid(validateGroupName, group.name)) {
      return { ...base, pending: group.pending, lag: group.lag ?? 0, lagMs: 0, oldestPendingAgeMs: 0 };
    }
    // The record read with the stream's other groups: XINFO GROUPS once per stream, not again per group.
    const lag = await this.lagReader.groupLagFromRecord(stream, group.record, { maxCount });
    // Destroyed since the groups were read.
    if (!lag) return undefined;
    return {
      ...base,
      pending: lag.pending,
      lag: lag.entries,
      lagMs: lag.oldestAgeMs,
      oldestPendingAgeMs: lag.oldestPendingAgeMs,
      lastDeliveredId: lag.lastDeliveredId,
    };
  }

  /** XINFO GROUPS of a stream, sorted by name; none when the stream does not exist. */
  private async groupsOf(streamKey: string): Promise<GroupRecord[]> {
    let raw: (string | number | null)[][];
    try {
      raw = (await sendKeyed(this.client, 'xinfo', streamKey, ['GROUPS', streamKey])) as (string | number | null)[][];
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return [];
      throw error;
    }
    return raw
      .map(recordOf)
      .map((record) => ({
        record,
        name: String(record.name),
        consumers: Number(record.consumers),
        pending: Number(record.pending),
        lastDeliveredId: String(record['last-delivered-id']),
        lag: typeof record.lag === 'number' ? record.lag : undefined,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

interface GroupRecord {
  /** The group's XINFO GROUPS entry, for the lag read. */
  record: XinfoGroupRecord;
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Redis's lag, when it can tell. */
  lag?: number;
}

function requestedStreams(streams: unknown): string[] | undefined {
  if (streams === undefined) return undefined;
  if (!Array.isArray(streams)) throw new RedstreamConfigError('Redstream.status: streams must be an array of names');
  return [...new Set(streams.map((stream) => validateStreamName(stream)))].sort();
}

/** The stream a stream key's name belongs to (`x.delay` and `x.dead` to `x`); undefined if none can. */
function streamOf(name: string): string | undefined {
  const suffix = [DELAY_STREAM_SUFFIX, DEAD_LETTER_STREAM_SUFFIX].find((candidate) => name.endsWith(candidate));
  const stream = suffix ? name.slice(0, -suffix.length) : name;
  return isValid(validateStreamName, stream) ? stream : undefined;
}

function isValid(validate: (name: unknown) => string, name: string): boolean {
  try {
    validate(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The masters of a Cluster. A client still connecting knows none yet (scanning them would
 * find nothing): a PING waits in its offline queue until the slots are known.
 */
async function masters(cluster: Cluster): Promise<RedisClient[]> {
  if (cluster.nodes('master').length === 0) await cluster.ping();
  return cluster.nodes('master');
}

/** Every key matching `pattern`, on every master of a Cluster. */
async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = (client as { isCluster?: boolean }).isCluster === true ? await masters(client as Cluster) : [client];
  const found = new Set<string>();
  await Promise.all(
    nodes.map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        for (const key of keys) found.add(key);
        cursor = next;
      } while (cursor !== '0');
    }),
  );
  return [...found];
}
