import { BadRequestException, ConflictException, Inject, Injectable } from '@nestjs/common';
import { Redstream, ReplayResult, StreamStatus, validateConsumerName, validateStreamName } from '../engine';
import { parseRewindTarget, rewindOffset } from '../engine/offset-rewind';
import { isStreamId } from '../engine/stream-id';
import { DASHBOARD_MAX_REPLAY_IDS, REDSTREAM_DASHBOARD_OPTIONS } from './redstream-dashboard.constants';
import {
  DASHBOARD_BAD_REQUEST,
  DASHBOARD_CONSUMER_ACTIVE,
  DASHBOARD_INVALID_REPLAY_IDS,
  DASHBOARD_NOT_AN_OBJECT,
  DASHBOARD_STREAM_NOT_SHOWN,
  DASHBOARD_UNKNOWN_FIELDS,
} from './redstream-dashboard.messages';
import type { ResolvedDashboardOptions } from './redstream-dashboard-options.resolver';

/** What `<path>/api/status` answers: `Redstream.status()` and what the page needs beside it. */
export interface RedstreamDashboardStatus {
  /** Whether the replay and rewind actions are off. */
  readOnly: boolean;
  /** The server's clock when the status was read, in ms since the epoch. */
  time: number;
  streams: StreamStatus[];
}

/** What `<path>/api/rewind` answers. */
export interface RedstreamDashboardRewindResult {
  stream: string;
  consumer: string;
  /** The committed offset before; null when the consumer had committed none. */
  previous: string | null;
  /** The committed offset now: the consumer reads the entries after it when it starts. */
  offset: string;
}

/** Reads for the dashboard and carries out its actions, checking what the browser sent. */
@Injectable()
export class RedstreamDashboardService {
  constructor(
    private readonly redstream: Redstream,
    @Inject(REDSTREAM_DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  async status(): Promise<RedstreamDashboardStatus> {
    const { streams } = await this.redstream.status(this.options.streams ? { streams: [...this.options.streams] } : {});
    return { readOnly: this.options.readOnly, time: Date.now(), streams };
  }

  /** Replays the dead letters `ids` of `stream` (all of them without `ids`). */
  replayDeadLetters(body: unknown): Promise<ReplayResult> {
    const { stream, ids } = parseBody(body, ['stream', 'ids']);
    const streamName = this.stream(stream);
    if (ids === undefined) return this.redstream.replayDeadLetters(streamName);
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > DASHBOARD_MAX_REPLAY_IDS ||
      !ids.every((id) => typeof id === 'string' && isStreamId(id))
    ) {
      throw badRequest(DASHBOARD_INVALID_REPLAY_IDS(DASHBOARD_MAX_REPLAY_IDS));
    }
    return this.redstream.replayDeadLetters(streamName, { ids: ids as string[] });
  }

  /**
   * Moves the committed offset of a stopped consumer so that it reads from `to` on (`start`,
   * `end`, an entry id or an ISO 8601 time, as the CLI's `--to`); refused while an instance
   * holds its lock.
   */
  async rewind(body: unknown): Promise<RedstreamDashboardRewindResult> {
    const { stream, consumer, to } = parseBody(body, ['stream', 'consumer', 'to']);
    const streamName = this.stream(stream);
    const consumerName = guarded(() => validateConsumerName(consumer));
    const target = guarded(() => parseRewindTarget(to));
    const result = await rewindOffset(this.redstream.client, this.redstream.keys, streamName, consumerName, target);
    if (result.status === 'active') throw new ConflictException(DASHBOARD_CONSUMER_ACTIVE(streamName, consumerName));
    return { stream: streamName, consumer: consumerName, previous: result.previous, offset: result.offset };
  }

  /** A stream of this dashboard: a valid name, and one of `streams` when that option is set. */
  private stream(stream: unknown): string {
    const name = guarded(() => validateStreamName(stream));
    if (this.options.streams && !this.options.streams.includes(name)) {
      throw badRequest(DASHBOARD_STREAM_NOT_SHOWN(name));
    }
    return name;
  }
}

function parseBody<TKey extends string>(body: unknown, keys: readonly TKey[]): Partial<Record<TKey, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(DASHBOARD_NOT_AN_OBJECT());
  const unknownKeys = Object.keys(body).filter((key) => !(keys as readonly string[]).includes(key));
  if (unknownKeys.length > 0) throw badRequest(DASHBOARD_UNKNOWN_FIELDS(unknownKeys, keys));
  return body as Partial<Record<TKey, unknown>>;
}

/** A name check's RedstreamConfigError as a 400 for the browser. */
function guarded<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw badRequest((error as Error).message);
  }
}

function badRequest(reason: string): BadRequestException {
  return new BadRequestException(DASHBOARD_BAD_REQUEST(reason));
}
