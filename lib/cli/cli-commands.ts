import type { DeadLetter, ReplayResult } from '../engine/dead-letters';
import type { RedstreamStatus, StreamStatus } from '../engine/interfaces/redstream-status.interface';
import type { TrimPlan, TrimResult } from '../engine/interfaces/trimmer-options.interface';
import { rewindOffset, RewindTarget } from '../engine/offset-rewind';
import { consumerLockName, validateConsumerName, validateStreamName } from '../engine/redstream-keys';
import { countRange } from '../engine/stream-count';
import { entryAgeMs, serverTimeMs } from '../engine/server-clock';
import { isStreamId } from '../engine/stream-id';
import { CliOperationalError, CliUsageError } from './cli-errors';
import { formatDuration, formatTable, truncate } from './cli-output';
import { startProgress } from './cli-progress-bar';
import type { CliSession, GlobalOptions } from './cli-session';
import { cliMessages } from './cli.messages';

/** Where a command writes: its result to stdout, warnings and progress to stderr. */
export interface CliOutput {
  /** A line (or lines) of human output; ignored with `--json`. */
  text(text: string): void;
  /** The machine output, printed as JSON with `--json`. */
  json(value: unknown): void;
  warn(text: string): void;
}

/** What every command gets: its session, the global options and the output. */
export interface CommandContext {
  session: CliSession;
  options: GlobalOptions;
  out: CliOutput;
}

/** Dead letters read per page when replaying all of them, and replayed per call. */
const DEAD_LETTER_PAGE = 1_000;
const REPLAY_CHUNK = 100;

/** `redstream status`: every stream with its consumers and groups. */
export async function statusCommand({ session, out }: CommandContext, streams: string[]): Promise<void> {
  const status = await session.redstream.status(streams.length > 0 ? { streams } : {});
  out.json(status);
  out.text(describeStatus(status, session.redstream.keys.namespace));
}

function describeStatus(status: RedstreamStatus, namespace: string | undefined): string {
  if (status.streams.length === 0)
    return `No streams in ${namespace ? `namespace ${namespace}` : 'the default namespace'}.`;
  const sections = [
    formatTable(
      [
        { header: 'STREAM' },
        { header: 'LENGTH', align: 'right' },
        { header: 'DELAYED', align: 'right' },
        { header: 'OLDEST DELAYED', align: 'right' },
        { header: 'DEAD LETTERS', align: 'right' },
      ],
      status.streams.map((stream) => [
        stream.stream,
        String(stream.length),
        String(stream.delayBacklog.entries),
        formatDuration(stream.delayBacklog.oldestAgeMs),
        String(stream.deadLetters),
      ]),
    ),
  ];
  const consumers = status.streams.flatMap((stream) => stream.consumers.map((consumer) => ({ stream, consumer })));
  if (consumers.length > 0) {
    sections.push(
      formatTable(
        [
          { header: 'STREAM' },
          { header: 'CONSUMER' },
          { header: 'ACTIVE' },
          { header: 'OWNER' },
          { header: 'OFFSET' },
          { header: 'LAG', align: 'right' },
          { header: 'LAG AGE', align: 'right' },
        ],
        consumers.map(({ stream, consumer }) => [
          stream.stream,
          consumer.name,
          consumer.active ? 'yes' : 'no',
          consumer.owner ?? '-',
          consumer.offset ?? '-',
          String(consumer.lag),
          formatDuration(consumer.lagMs),
        ]),
      ),
    );
  }
  const groups = status.streams.flatMap((stream) => stream.groups.map((group) => ({ stream, group })));
  if (groups.length > 0) {
    sections.push(
      formatTable(
        [
          { header: 'STREAM' },
          { header: 'GROUP' },
          { header: 'MEMBERS', align: 'right' },
          { header: 'PENDING', align: 'right' },
          { header: 'OLDEST PENDING', align: 'right' },
          { header: 'LAG', align: 'right' },
          { header: 'LAG AGE', align: 'right' },
          { header: 'LAST DELIVERED' },
        ],
        groups.map(({ stream, group }) => [
          stream.stream,
          group.name,
          String(group.consumers),
          String(group.pending),
          formatDuration(group.oldestPendingAgeMs),
          String(group.lag),
          formatDuration(group.lagMs),
          group.lastDeliveredId,
        ]),
      ),
    );
  }
  return sections.join('\n\n');
}

/** One reader's lag in `redstream lag`. */
export interface LagRow {
  stream: string;
  /** An offset consumer, a consumer group, or the Delayer (its backlog). */
  kind: 'consumer' | 'group' | 'delayer';
  name: string;
  /** Entries waiting. */
  lag: number;
  /** Age in ms of the oldest of them. */
  lagMs: number;
}

/** `redstream lag [stream]`: every reader's lag, the Delayer's backlog included. */
export async function lagCommand({ session, out }: CommandContext, stream: string | undefined): Promise<void> {
  const status = await session.redstream.status(stream === undefined ? {} : { streams: [stream] });
  const rows = status.streams.flatMap(lagRows);
  out.json(rows);
  out.text(
    rows.length === 0
      ? 'No readers found.'
      : formatTable(
          [
            { header: 'STREAM' },
            { header: 'KIND' },
            { header: 'NAME' },
            { header: 'LAG', align: 'right' },
            { header: 'LAG AGE', align: 'right' },
          ],
          rows.map((row) => [row.stream, row.kind, row.name, String(row.lag), formatDuration(row.lagMs)]),
        ),
  );
}

function lagRows(stream: StreamStatus): LagRow[] {
  const rows: LagRow[] = [
    ...stream.consumers.map((consumer) => ({
      stream: stream.stream,
      kind: 'consumer' as const,
      name: consumer.name,
      lag: consumer.lag,
      lagMs: consumer.lagMs,
    })),
    ...stream.groups.map((group) => ({
      stream: stream.stream,
      kind: 'group' as const,
      name: group.name,
      lag: group.lag,
      lagMs: group.lagMs,
    })),
  ];
  if (stream.delayBacklog.entries > 0) {
    rows.push({
      stream: stream.stream,
      kind: 'delayer',
      name: 'delayer',
      lag: stream.delayBacklog.entries,
      lagMs: stream.delayBacklog.oldestAgeMs,
    });
  }
  return rows;
}

/** An entry shown by `redstream peek`. */
export interface PeekedEntry {
  id: string;
  /** Age in ms on Redis's clock. */
  ageMs: number;
  fields: Record<string, string>;
}

/** `redstream peek <stream>`: the first `count` entries from `from` (inclusive) on. */
export async function peekCommand(
  { session, out }: CommandContext,
  stream: string,
  options: { count: number; from?: string },
): Promise<void> {
  validateStreamName(stream);
  const from = options.from ?? '-';
  if (from !== '-') streamId(from);
  const key = session.redstream.keys.stream(stream);
  // Ages on the clock of the stream's node, read as `lag` and `status` read it.
  const [raw, nowMs] = await Promise.all([
    session.client.xrange(key, from, '+', 'COUNT', options.count) as Promise<[string, string[]][]>,
    serverTimeMs(session.client, key),
  ]);
  const entries: PeekedEntry[] = raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return { id, ageMs: entryAgeMs(id, nowMs), fields };
  });
  out.json({ stream, entries });
  out.text(
    entries.length === 0
      ? `No entries in ${stream}${from === '-' ? '' : ` from ${from}`}.`
      : formatTable(
          [{ header: 'ID' }, { header: 'AGE', align: 'right' }, { header: 'FIELDS' }],
          entries.map((entry) => [
            entry.id,
            formatDuration(entry.ageMs),
            truncate(
              Object.entries(entry.fields)
                .map(([name, value]) => `${name}=${value}`)
                .join(' '),
              100,
            ),
          ]),
        ),
  );
}

/** `redstream rewind <stream> <consumer> --to <target>`. */
export async function rewindCommand(
  { session, options, out }: CommandContext,
  stream: string,
  consumer: string,
  rewind: { to: RewindTarget; force: boolean },
): Promise<void> {
  const { redstream } = session;
  const result = await rewindOffset(session.client, redstream.keys, stream, consumer, rewind.to, {
    force: rewind.force,
  });
  if (result.status === 'active') {
    const lockKey = redstream.keys.lock(consumerLockName(stream, consumer));
    throw new CliOperationalError(cliMessages.consumerActive(consumer, stream, result.owner, lockKey));
  }
  if (result.owner) out.warn(cliMessages.forcedWhileActive(result.owner));
  // Counted exactly, inside Redis, 10,000 per call: over millions this takes a while, hence the bar.
  const key = redstream.keys.stream(stream);
  const progress = startProgress('Counting', await session.client.xlen(key), options.progress);
  const toRead = await countRange(session.client, key, `(${result.offset}`, '+', Number.MAX_SAFE_INTEGER, (counted) =>
    progress.update(counted),
  ).finally(() => progress.stop());
  out.json({
    stream,
    consumer,
    previous: result.previous,
    offset: result.offset,
    entries: toRead.count,
    forced: result.owner !== undefined,
  });
  out.text(
    `Consumer ${consumer} of ${stream}: offset ${result.previous ?? '(none)'} -> ${result.offset}; ` +
      `${toRead.count} ${toRead.count === 1 ? 'entry' : 'entries'} to read` +
      (toRead.firstId ? ` from ${toRead.firstId} on.` : '.'),
  );
}

/** `redstream forget <stream> <consumer>`: the trimmer stops waiting for it. */
export async function forgetCommand({ session, out }: CommandContext, stream: string, consumer: string): Promise<void> {
  const { redstream } = session;
  validateStreamName(stream);
  validateConsumerName(consumer);
  const registered = (await redstream.registeredConsumers(stream)).includes(consumer);
  await redstream.forgetConsumer(stream, consumer);
  const owner = await session.client.get(redstream.keys.lock(consumerLockName(stream, consumer)));
  if (owner !== null) out.warn(cliMessages.activeWhileForgotten(owner));
  out.json({ stream, consumer, forgotten: registered });
  out.text(
    registered
      ? `Forgot consumer ${consumer} of ${stream}: the trimmer no longer waits for it. ` +
          `Its offset stays in ${redstream.keys.offset(stream, consumer)}.`
      : `Consumer ${consumer} was not registered on ${stream}; nothing to forget.`,
  );
}

/** `redstream trim <stream> [--dry-run]`: one trimming run, as the Trimmer does, or its plan. */
export async function trimCommand(
  { session, options, out }: CommandContext,
  stream: string,
  trim: { dryRun: boolean; consumers?: string[]; groups?: string[] },
): Promise<void> {
  const trimmer = session.redstream.trimmer({
    stream,
    ...(trim.consumers ? { consumerNames: trim.consumers } : {}),
    ...(trim.groups ? { groupNames: trim.groups } : {}),
  });
  try {
    if (trim.dryRun) {
      const length = await session.client.xlen(session.redstream.keys.stream(stream));
      const progress = startProgress('Counting', length, options.progress);
      const plan = await trimmer
        .plan({ onCount: (counted) => progress.update(counted) })
        .finally(() => progress.stop());
      out.json({ stream, dryRun: true, ...plan });
      out.text(describePlan(stream, plan));
    } else {
      const result = await trimmer.trimOnce();
      out.json({ stream, dryRun: false, ...result });
      out.text(describeTrim(stream, result));
    }
  } finally {
    // Releases the trimmer's lock at once when this run took it, waking a standby.
    await trimmer.stop();
  }
}

const SKIP_REASONS: Record<NonNullable<TrimResult['skipped']>, string> = {
  locked: 'another trimmer holds the lock (it trims on its own schedule)',
  'no-consumers': 'no consumer is registered and no group reads the stream',
  'consumer-without-offset': 'a registered consumer has not committed yet (see `redstream status`)',
  'nothing-committed': 'nothing below what every reader still needs',
  'registry-changed': 'consumers kept registering meanwhile; try again',
  'group-missing': 'a group given with --group does not exist yet',
};

function describePlan(stream: string, plan: TrimPlan): string {
  if (plan.entries === 0)
    return `A trim of ${stream} would delete nothing: ${SKIP_REASONS[plan.skipped ?? 'nothing-committed']}.`;
  return `A trim of ${stream} would delete ${plan.entries} ${plan.entries === 1 ? 'entry' : 'entries'}: ${plan.firstId} .. ${plan.lastId}.`;
}

function describeTrim(stream: string, result: TrimResult): string {
  if (result.trimmed === 0)
    return `Deleted nothing from ${stream}: ${SKIP_REASONS[result.skipped ?? 'nothing-committed']}.`;
  return `Deleted ${result.trimmed} ${result.trimmed === 1 ? 'entry' : 'entries'} from ${stream}.`;
}

/** `redstream dead list <stream>`: a page of dead letters. */
export async function deadListCommand(
  { session, out }: CommandContext,
  stream: string,
  options: { count: number; from?: string },
): Promise<void> {
  if (options.from !== undefined) streamId(options.from);
  const page = await session.redstream.deadLetters(stream, { count: options.count, start: options.from });
  out.json(page);
  if (page.deadLetters.length === 0) {
    out.text(`No dead letters for ${stream}${options.from ? ` from ${options.from}` : ''}.`);
    return;
  }
  out.text(
    formatTable(
      [
        { header: 'ID' },
        { header: 'ORIGINAL ID' },
        { header: 'GAVE UP' },
        { header: 'DELIVERIES', align: 'right' },
        { header: 'DEAD AT' },
        { header: 'ERROR' },
      ],
      page.deadLetters.map((letter) => [
        letter.id,
        letter.originalId,
        gaveUp(letter),
        String(letter.deliveries),
        new Date(letter.deadAt).toISOString(),
        truncate(letter.error, 80),
      ]),
    ),
  );
  if (page.nextStart) out.text(`More: --from ${page.nextStart}`);
}

function gaveUp(letter: DeadLetter): string {
  if (letter.group !== undefined) return `group ${letter.group}`;
  if (letter.consumer !== undefined) return `consumer ${letter.consumer}`;
  return '-';
}

/** `redstream dead replay <stream> [--ids ...]`: back onto the stream, with a progress bar. */
export async function deadReplayCommand(
  { session, options, out }: CommandContext,
  stream: string,
  ids: string[] | undefined,
): Promise<void> {
  const { redstream } = session;
  ids?.forEach(streamId);
  // The ids present now, as the engine's replay-all does: one that dies again meanwhile gets a
  // new dead letter, which this replay must not pick up.
  const selected = ids ?? (await allDeadLetterIds(session, stream));
  const progress = startProgress('Replaying', selected.length, options.progress);
  const result: ReplayResult = { replayed: [], missing: [] };
  try {
    for (let i = 0; i < selected.length; i += REPLAY_CHUNK) {
      const chunk = await redstream.replayDeadLetters(stream, { ids: selected.slice(i, i + REPLAY_CHUNK) });
      result.replayed.push(...chunk.replayed);
      result.missing.push(...chunk.missing);
      progress.update(i + chunk.replayed.length + chunk.missing.length);
    }
  } finally {
    progress.stop();
  }
  out.json(result);
  out.text(
    `Replayed ${result.replayed.length} dead ${result.replayed.length === 1 ? 'letter' : 'letters'} onto ${stream}` +
      (result.missing.length > 0 ? `; ${result.missing.length} not found: ${result.missing.join(' ')}.` : '.'),
  );
}

async function allDeadLetterIds(session: CliSession, stream: string): Promise<string[]> {
  const ids: string[] = [];
  let start: string | undefined;
  do {
    const page = await session.redstream.deadLetters(stream, { count: DEAD_LETTER_PAGE, start });
    ids.push(...page.deadLetters.map((letter) => letter.id));
    start = page.nextStart;
  } while (start !== undefined);
  return ids;
}

/** `redstream dead drop <stream> --ids ... | --all`. */
export async function deadDropCommand(
  { session, out }: CommandContext,
  stream: string,
  selection: { ids?: string[]; all: boolean },
): Promise<void> {
  if (selection.ids && selection.all) throw new CliUsageError(cliMessages.idsAndAll());
  if (!selection.ids && !selection.all) throw new CliUsageError(cliMessages.dropNeedsSelection());
  selection.ids?.forEach(streamId);
  const dropped = await session.redstream.dropDeadLetters(stream, selection.ids ? { ids: selection.ids } : {});
  out.json({ stream, dropped });
  out.text(`Dropped ${dropped} dead ${dropped === 1 ? 'letter' : 'letters'} of ${stream}.`);
}

function streamId(value: string): string {
  if (!isStreamId(value)) throw new CliUsageError(cliMessages.invalidId(value));
  return value;
}
