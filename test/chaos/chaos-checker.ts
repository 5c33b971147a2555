// Checks a chaos run's history the way Jepsen's Kafka workload does, with the stream as the
// partition and the entry id as the offset: lost writes, phantoms, duplicates, skipped and
// out-of-order deliveries per owner, fencing of stale owners, and takeover lag.

/** One entry of the main stream, as the harness's witness read it (in stream order). */
export interface WitnessEntry {
  id: string;
  /** The producer's sequence number carried in the payload, or null for a foreign payload. */
  payloadId: number | null;
}

/** What the producer process logged for one write. */
export interface ProducerAck {
  payloadId: number;
  kind: 'queue' | 'delay';
  entryId: string;
}

/** A line of a consumer process's log. */
export interface ConsumerEvent {
  /** The process label, e.g. `indexer-4`. */
  proc: string;
  t: number;
  ev:
    | 'start'
    | 'active'
    | 'standby'
    | 'batch'
    | 'committed'
    | 'failed'
    | 'stopping'
    | 'exit'
    | 'acked'
    | 'claimed'
    | 'dead-lettered';
  /** Counts this process's activations: a (proc, epoch) pair is one owner. */
  epoch?: number;
  ids?: string[];
  offset?: string;
  msg?: string;
}

export type FaultKind =
  | 'kill9'
  | 'sigterm'
  | 'sigstop'
  | 'client-kill'
  | 'redis-restart'
  | 'handler-throws'
  | 'latency'
  | 'blackhole'
  | 'stall'
  | 'reset'
  | 'lost-replies';

/** A fault the harness injected. */
export interface FaultRecord {
  kind: FaultKind;
  t: number;
  /** End of a fault with a duration (SIGCONT, heal, server back). */
  until?: number;
  /** The consumer name whose active process was hit. */
  name?: string;
  proc?: string;
  /** The owner's epoch when it was hit. */
  epoch?: number;
  /** The committed offset of `name` just before the fault. */
  offsetBefore?: string | null;
  note?: string;
}

export interface ChaosHistory {
  consumerNames: string[];
  batchSize: number;
  lockTtlMs: number;
  standbyPollMs: number;
  stream: WitnessEntry[];
  attemptedPayloadIds: number[];
  acks: ProducerAck[];
  /** Every consumer event of every process, per consumer name. */
  events: Record<string, ConsumerEvent[]>;
  faults: FaultRecord[];
  /** Problems the witness saw while the run was going (trim ahead of a consumer, offset moving back). */
  witnessViolations: string[];
  /** How many atomic snapshots (first entry, offsets) the witness checked during the run. */
  witnessSnapshots?: number;
  /** Processes still running after shutdown. */
  leftovers: string[];
  /** Whether every consumer caught up with the stream and the delay stream drained at the end. */
  converged: boolean;
  /** Group mode: the consumer group the group-consumer processes shared. */
  group?: GroupHistory;
}

/** What a group-mode run recorded about its consumer group. */
export interface GroupHistory {
  name: string;
  /** Every event of every group-consumer process (`batch` lines list the handled entry ids). */
  events: ConsumerEvent[];
  /** Payload ids whose handler always throws: every stream entry carrying one must be dead-lettered. */
  poisonPayloadIds: number[];
  /** The original entry ids found in `<stream>.dead` at the end, one per dead letter. */
  deadLetterIds: string[];
  /** XPENDING's count for the group after the drain; null if it could not be read. */
  pendingAtEnd: number | null;
}

export interface GroupFigures {
  /** Stream entries handled at least once (poison entries excluded). */
  handled: number;
  /** Entries of the stream that carry a poison payload id. */
  poisonEntries: number;
  deadLetters: number;
  duplicates: number;
  /** Distinct members (processes) that handled a batch. */
  members: number;
  claimed: number;
  pendingAtEnd: number | null;
}

export interface LagFigures {
  count: number;
  medianMs: number;
  maxMs: number;
}

export interface NameFigures {
  handled: number;
  duplicates: number;
  owners: number;
  failoverReplaysMax: number;
  /** The most entries one owner re-handled that another owner had handled before (bound: batch size). */
  takeoverDuplicatesMax: number;
  errorReplays: number;
  lateStaleBatches: number;
  /** Owners that started before the last commit logged so far (allowed; their re-delivery is bounded). */
  startsBeforeLastCommit: number;
  /** Owners that started at a commit whose log line came late or never (kill -9, lost reply, freeze). */
  startsAtUnloggedCommit: number;
}

export interface ChaosReport {
  ok: boolean;
  violations: string[];
  figures: {
    streamEntries: number;
    payloadIdsAcknowledged: number;
    faults: Partial<Record<FaultKind, number>>;
    names: Record<string, NameFigures>;
    takeover: Partial<Record<FaultKind, LagFigures>>;
    /** From the end of a fault to the next commit of each consumer name (progress again). */
    recovery: Partial<Record<FaultKind, LagFigures>>;
    /** Group mode only. */
    group?: GroupFigures;
  };
}

/** How far past ttl + poll a takeover may take on a loaded 2-core machine before it counts as a violation. */
export const TAKEOVER_SLACK_MS = 5_000;

export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

function lagFigures(values: number[]): LagFigures {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0, maxMs: sorted.at(-1) ?? 0 };
}

function sample<T>(items: T[], count = 5): string {
  const shown = items.slice(0, count).map(String).join(', ');
  return items.length > count ? `${shown}, ... (${items.length} in all)` : shown;
}

export function checkHistory(history: ChaosHistory): ChaosReport {
  const violations: string[] = [...history.witnessViolations];
  const position = new Map<string, number>();
  history.stream.forEach((entry, index) => position.set(entry.id, index));

  // Writes: every acknowledged immediate write is in the stream; every acknowledged payload
  // (immediate or delayed) reached the stream; nothing in the stream was never attempted.
  const attempted = new Set(history.attemptedPayloadIds);
  const payloadsInStream = new Set(history.stream.map((entry) => entry.payloadId));
  const missingAcked = history.acks.filter((ack) => ack.kind === 'queue' && !position.has(ack.entryId));
  if (missingAcked.length > 0) {
    violations.push(
      `lost writes: acknowledged entries missing from the stream: ${sample(missingAcked.map((a) => a.entryId))}`,
    );
  }
  const ackedPayloads = [...new Set(history.acks.map((ack) => ack.payloadId))];
  const neverQueued = ackedPayloads.filter((id) => !payloadsInStream.has(id));
  if (neverQueued.length > 0)
    violations.push(`lost writes: acknowledged payload ids never in the stream: ${sample(neverQueued)}`);
  const phantomPayloads = history.stream.filter((entry) => entry.payloadId === null || !attempted.has(entry.payloadId));
  if (phantomPayloads.length > 0)
    violations.push(`phantom entries (never written by the producer): ${sample(phantomPayloads.map((e) => e.id))}`);

  const names: Record<string, NameFigures> = {};
  for (const name of history.consumerNames) {
    names[name] = checkName(name, history, position, violations);
  }

  const group = history.group ? checkGroup(history.group, history.stream, position, violations) : undefined;

  const takeover: Partial<Record<FaultKind, LagFigures>> = {};
  const lags: Partial<Record<FaultKind, number[]>> = {};
  const faults: Partial<Record<FaultKind, number>> = {};
  for (const fault of history.faults) {
    faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
    if (!fault.name || !['kill9', 'sigterm', 'sigstop'].includes(fault.kind)) continue;
    const next = history.events[fault.name]?.find(
      (event) =>
        event.ev === 'active' && event.t > fault.t && event.proc !== (fault.kind === 'sigstop' ? fault.proc : ''),
    );
    if (!next) {
      violations.push(`${fault.name}: no takeover after ${fault.kind} of ${fault.proc} at ${fault.t}`);
      continue;
    }
    const lag = next.t - fault.t;
    (lags[fault.kind] ??= []).push(lag);
    const bound = history.lockTtlMs + history.standbyPollMs + TAKEOVER_SLACK_MS;
    if (lag > bound) violations.push(`${fault.name}: takeover after ${fault.kind} took ${lag} ms (bound ${bound} ms)`);
  }
  for (const [kind, values] of Object.entries(lags)) takeover[kind as FaultKind] = lagFigures(values);

  const recoveries: Partial<Record<FaultKind, number[]>> = {};
  for (const fault of history.faults) {
    const end = fault.until ?? fault.t;
    for (const name of history.consumerNames) {
      const next = history.events[name]?.find((event) => event.ev === 'committed' && event.t > end);
      if (next) (recoveries[fault.kind] ??= []).push(next.t - end);
    }
  }
  const recovery: Partial<Record<FaultKind, LagFigures>> = {};
  for (const [kind, values] of Object.entries(recoveries)) recovery[kind as FaultKind] = lagFigures(values);

  if (!history.converged) violations.push('the consumers did not catch up with the stream by the end of the run');
  if (history.leftovers.length > 0) violations.push(`processes left running: ${history.leftovers.join(', ')}`);
  return {
    ok: violations.length === 0,
    violations,
    figures: {
      streamEntries: history.stream.length,
      payloadIdsAcknowledged: ackedPayloads.length,
      faults,
      names,
      takeover,
      recovery,
      ...(group ? { group } : {}),
    },
  };
}

/**
 * The group checks: every stream entry handled at least once by some member except the
 * poison ones (whose handler always throws), which must be exactly the dead letters; nothing
 * pending after the drain. Order and duplicates are not checked: a group promises neither
 * (duplicates are reported).
 */
export function checkGroup(
  group: GroupHistory,
  stream: WitnessEntry[],
  position: Map<string, number>,
  violations: string[],
): GroupFigures {
  const label = `group ${group.name}`;
  const poison = new Set(group.poisonPayloadIds);
  const isPoison = (entry: WitnessEntry): boolean => entry.payloadId !== null && poison.has(entry.payloadId);
  const handledCount = new Array<number>(stream.length).fill(0);
  const phantoms: string[] = [];
  const members = new Set<string>();
  let claimed = 0;
  for (const event of group.events) {
    if (event.ev === 'claimed') claimed += Number(event.msg ?? 0);
    if (event.ev !== 'batch') continue;
    members.add(event.proc);
    for (const id of event.ids ?? []) {
      const at = position.get(id);
      if (at === undefined) phantoms.push(id);
      else handledCount[at]++;
    }
  }
  const lost = stream
    .filter((entry, at) => handledCount[at] === 0 && !isPoison(entry))
    .map((entry) => `${entry.id} (payload ${entry.payloadId})`);
  if (lost.length > 0) violations.push(`${label}: entries never handled: ${sample(lost)}`);
  if (phantoms.length > 0) violations.push(`${label}: handled entries that are not in the stream: ${sample(phantoms)}`);
  const poisonHandled = stream.filter((entry, at) => handledCount[at] > 0 && isPoison(entry)).map((entry) => entry.id);
  if (poisonHandled.length > 0) {
    violations.push(`${label}: poison entries logged as handled (their handler throws): ${sample(poisonHandled)}`);
  }

  const poisonIds = new Set(stream.filter(isPoison).map((entry) => entry.id));
  const deadIds = new Set(group.deadLetterIds);
  const unexpected = [...deadIds].filter((id) => !poisonIds.has(id));
  if (unexpected.length > 0) {
    violations.push(`${label}: dead letters that are not injected poison entries: ${sample(unexpected)}`);
  }
  const missingDead = [...poisonIds].filter((id) => !deadIds.has(id));
  if (missingDead.length > 0) {
    violations.push(`${label}: poison entries missing from the dead letters: ${sample(missingDead)}`);
  }
  if (group.pendingAtEnd === null) violations.push(`${label}: the pending count could not be read after the drain`);
  else if (group.pendingAtEnd > 0) {
    violations.push(`${label}: ${group.pendingAtEnd} entries still pending after the drain`);
  }
  return {
    handled: handledCount.filter((count, at) => count > 0 && !isPoison(stream[at])).length,
    poisonEntries: poisonIds.size,
    deadLetters: group.deadLetterIds.length,
    duplicates: handledCount.reduce((sum, count) => sum + Math.max(0, count - 1), 0),
    members: members.size,
    claimed,
    pendingAtEnd: group.pendingAtEnd,
  };
}

function checkName(
  name: string,
  history: ChaosHistory,
  position: Map<string, number>,
  violations: string[],
): NameFigures {
  const events = history.events[name] ?? [];
  const batches = events.filter((event) => event.ev === 'batch').sort((a, b) => a.t - b.t);
  const handledCount = new Array<number>(history.stream.length).fill(0);
  // Which owners delivered each entry: a re-delivery by the same owner is an error replay, one
  // by another owner is a takeover duplicate.
  const handledBy = history.stream.map(() => new Set<string>());
  const phantoms: string[] = [];
  let nextFirstDelivery = 0;
  const outOfOrder: string[] = [];
  const lastOfOwner = new Map<string, { position: number; t: number }>();
  const ownerStarts = new Map<string, number>();
  const startOffsets = startOffsetsOf(events);
  const takeoverDuplicates = new Map<string, number>();
  let failoverReplaysMax = 0;
  let errorReplays = 0;
  let lateStaleBatches = 0;
  const skipped: string[] = [];
  const unexplainedReplays: string[] = [];
  let latestOwnerStart = -Infinity;

  for (const batch of batches) {
    const owner = ownerOf(batch);
    const positions: number[] = [];
    for (const id of batch.ids ?? []) {
      const at = position.get(id);
      if (at === undefined) phantoms.push(id);
      else positions.push(at);
    }
    if (positions.length === 0) continue;
    const previous = lastOfOwner.get(owner);
    const replays = positions.filter((at) => handledCount[at] > 0).length;
    if (!previous) {
      // The owner's first batch starts at the committed offset: anything it re-handles is the
      // previous owner's uncommitted last batch.
      if (ownerStarts.size > 0) failoverReplaysMax = Math.max(failoverReplaysMax, replays);
      if (replays > history.batchSize) {
        violations.push(
          `${name}: ${owner} re-handled ${replays} entries after taking over (batch size ${history.batchSize})`,
        );
      }
      const start = startOffsets.get(owner);
      if (start !== undefined) {
        const expected = firstAfter(history.stream, start);
        if (positions[0] > expected) {
          skipped.push(
            `${owner} began at ${history.stream[positions[0]].id}, not right after its start offset ${start}`,
          );
        } else if (positions[0] < expected) {
          violations.push(
            `${name}: ${owner} delivered ${history.stream[positions[0]].id}, at or before its start offset ${start}`,
          );
        }
      }
      ownerStarts.set(owner, batch.t);
      latestOwnerStart = batch.t;
    } else if (positions[0] <= previous.position) {
      errorReplays++;
      const failedBetween = events.some(
        (event) => event.proc === batch.proc && event.ev === 'failed' && event.t >= previous.t && event.t <= batch.t,
      );
      if (!failedBetween) unexplainedReplays.push(`${owner} went back from ${previous.position} to ${positions[0]}`);
      if (previous.position - positions[0] + 1 > history.batchSize) {
        violations.push(
          `${name}: ${owner} went back ${previous.position - positions[0] + 1} entries (batch size ${history.batchSize})`,
        );
      }
    } else if (positions[0] > previous.position + 1) {
      skipped.push(
        `${owner} jumped from ${history.stream[previous.position].id} to ${history.stream[positions[0]].id}`,
      );
    }
    // A batch of an owner that another owner has superseded meanwhile: the thawed or slow one.
    if ((ownerStarts.get(owner) ?? 0) < latestOwnerStart) lateStaleBatches++;
    for (let i = 1; i < positions.length; i++) {
      if (positions[i] !== positions[i - 1] + 1)
        skipped.push(`${owner} batch not contiguous at ${history.stream[positions[i]].id}`);
    }
    for (const at of positions) {
      if (handledCount[at] === 0) {
        if (at !== nextFirstDelivery)
          outOfOrder.push(`${history.stream[at].id} first handled while ${nextFirstDelivery} was next`);
        nextFirstDelivery = Math.max(nextFirstDelivery, at + 1);
      } else if (!handledBy[at].has(owner)) {
        takeoverDuplicates.set(owner, (takeoverDuplicates.get(owner) ?? 0) + 1);
      }
      handledCount[at]++;
      handledBy[at].add(owner);
    }
    lastOfOwner.set(owner, { position: positions[positions.length - 1], t: batch.t });
  }

  const lost = history.stream
    .filter((_, at) => handledCount[at] === 0)
    .map((entry) => `${entry.id} (payload ${entry.payloadId})`);
  if (lost.length > 0) violations.push(`${name}: entries never handled: ${sample(lost)}`);
  if (phantoms.length > 0) violations.push(`${name}: handled entries that are not in the stream: ${sample(phantoms)}`);
  if (skipped.length > 0) violations.push(`${name}: skipped entries within one owner: ${sample(skipped)}`);
  if (outOfOrder.length > 0) violations.push(`${name}: first deliveries out of stream order: ${sample(outOfOrder)}`);
  if (unexplainedReplays.length > 0) {
    violations.push(`${name}: an owner went back without a failure in between: ${sample(unexplainedReplays)}`);
  }

  // Duplicates are bounded per takeover, not pooled over the run (a pooled allowance lets one
  // takeover re-deliver several committed batches when the others were clean). The bound is one
  // batch per owner, for the entries it re-handles that another owner handled before. Why one
  // batch is enough: the harness logs a `batch` line before the handler resolves, and the
  // library commits a batch's last id before it hands out the next batch, so every owner X
  // handles at most the first `batchSize` entries after its committed offset without having
  // committed them. Every committed offset is at or below the new owner's start S (offsets never
  // move back, commits are fenced), so the entries past S that anyone handled are all within the
  // first `batchSize` entries past S: the batch(es) in flight at the takeover, previous owner's
  // and stale (thawed) owners' alike, overlap in that one window. The same holds for a stale owner
  // re-handling, after SIGCONT, what the new owner handled meanwhile. Re-deliveries by the same
  // owner after a failure are error replays, bounded per failure above ("went back").
  let takeoverDuplicatesMax = 0;
  for (const [owner, count] of takeoverDuplicates) {
    takeoverDuplicatesMax = Math.max(takeoverDuplicatesMax, count);
    if (count > history.batchSize) {
      violations.push(
        `${name}: ${owner}: ${count} duplicate deliveries exceed ${history.batchSize} (the batch in flight at its takeover; ` +
          `entries another owner had handled before, batch size ${history.batchSize})`,
      );
    }
  }
  const duplicates = handledCount.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  const failovers = Math.max(0, ownerStarts.size - 1);
  const bound = history.batchSize * (failovers + errorReplays);
  if (duplicates > bound) {
    violations.push(
      `${name}: ${duplicates} duplicate deliveries exceed ${bound} (batch size x (${failovers} failovers + ${errorReplays} error replays))`,
    );
  }
  const { startsBeforeLastCommit, startsAtUnloggedCommit } = checkStarts(
    name,
    events,
    history.faults,
    batches,
    violations,
  );
  checkFencing(name, history, events, violations);
  return {
    handled: handledCount.filter((count) => count > 0).length,
    duplicates,
    owners: ownerStarts.size,
    failoverReplaysMax,
    takeoverDuplicatesMax,
    errorReplays,
    lateStaleBatches,
    startsBeforeLastCommit,
    startsAtUnloggedCommit,
  };
}

function ownerOf(event: ConsumerEvent): string {
  return `${event.proc}#${event.epoch}`;
}

/** The offset each owner reported when it became active (the harness logs it with `active`). */
function startOffsetsOf(events: ConsumerEvent[]): Map<string, string> {
  const starts = new Map<string, string>();
  for (const event of events)
    if (event.ev === 'active' && event.offset !== undefined) starts.set(ownerOf(event), event.offset);
  return starts;
}

/** The position of the first stream entry after `offset` (the stream's length if none). */
function firstAfter(stream: WitnessEntry[], offset: string): number {
  let low = 0;
  let high = stream.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareIds(stream[middle].id, offset) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

// Each new owner's starting offset against the last commit logged before it became active. A
// start past it skips entries unless a commit of exactly that offset happened without its log
// line at that time, which the log shows in one of two ways only:
// - some owner logged `committed` of that offset later (it froze between the commit and its log
//   line; fencing means the commit itself ran before the takeover);
// - some owner handled a batch ending at that offset and its outcome is unknown: its process
//   logged nothing after it (kill -9 between commit and log line) or `failed` (a reply lost
//   after the commit ran), or `standby` with a connection fault in between (see `outcomeOf`).
//   A `standby` after the batch otherwise means fenced: the commit was refused, so a start at
//   that batch's end skips entries only the fenced owner saw.
// A start before the last commit cannot happen with fenced commits; it is not a violation by
// itself, but the owner's re-deliveries count against its one-batch takeover bound.
function checkStarts(
  name: string,
  events: ConsumerEvent[],
  faults: FaultRecord[],
  batches: ConsumerEvent[],
  violations: string[],
): { startsBeforeLastCommit: number; startsAtUnloggedCommit: number } {
  const commits = events.filter((event) => event.ev === 'committed' && event.offset !== undefined);
  let startsBefore = 0;
  let startsUnlogged = 0;
  for (const active of events) {
    if (active.ev !== 'active' || active.offset === undefined) continue;
    const start = active.offset;
    const owner = ownerOf(active);
    const lastCommit = commits
      .filter((commit) => commit.t <= active.t)
      .reduce((max, commit) => (compareIds(commit.offset!, max) > 0 ? commit.offset! : max), '0-0');
    const order = compareIds(start, lastCommit);
    if (order < 0) startsBefore++;
    if (order <= 0) continue;
    const loggedLater = commits.some((commit) => commit.offset === start && ownerOf(commit) !== owner);
    const unknownOutcome = batches.some(
      (batch) =>
        batch.t <= active.t &&
        ownerOf(batch) !== owner &&
        batch.ids?.at(-1) === start &&
        outcomeOf(batch, events, faults) === 'unknown',
    );
    if (loggedLater || unknownOutcome) {
      startsUnlogged++;
      continue;
    }
    const seenBy = batches.filter((batch) => batch.ids?.at(-1) === start).map(ownerOf);
    violations.push(
      `${name}: ${owner} started after ${start}, past the last commit ${lastCommit}` +
        (seenBy.length > 0 ? ` (only ${[...new Set(seenBy)].join(', ')} handled up to it, without committing)` : '') +
        `: the entries in between were skipped`,
    );
  }
  return { startsBeforeLastCommit: startsBefore, startsAtUnloggedCommit: startsUnlogged };
}

/** Faults that can close a connection with a command in flight, or lose its reply. */
const CONNECTION_FAULTS: FaultKind[] = [
  'client-kill',
  'redis-restart',
  'latency',
  'blackhole',
  'stall',
  'reset',
  'lost-replies',
];

/**
 * What became of a batch, from the next event its process logged. A `standby` refusal is taken
 * at its word only when no connection fault fell between the batch and the refusal: ioredis
 * re-sends a command whose connection closed before the reply came, so the commit may have run
 * (under the lock) and its re-sent copy, arriving after the lock expired, been refused; the
 * library then logs "not committed" for an offset that is committed (seen in a short soak: the
 * AOF held the SET of the offset, the re-sent copy ran after a redis-restart).
 */
function outcomeOf(
  batch: ConsumerEvent,
  events: ConsumerEvent[],
  faults: FaultRecord[],
): 'committed' | 'refused' | 'unknown' {
  const index = events.indexOf(batch);
  const next = events
    .slice(index + 1)
    .find((event) => event.proc === batch.proc && ['committed', 'standby', 'failed', 'batch'].includes(event.ev));
  if (next?.ev === 'committed') return 'committed';
  if (next?.ev !== 'standby') return 'unknown';
  const connectionFault = faults.some(
    (fault) => CONNECTION_FAULTS.includes(fault.kind) && fault.t <= next.t && (fault.until ?? fault.t) >= batch.t,
  );
  return connectionFault ? 'unknown' : 'refused';
}

// A process frozen past its lock ttl must, once thawed, commit nothing it handled after the
// freeze and finish at most the one batch it was in the middle of. Its `committed` line after
// SIGCONT may be the late log line of a commit that ran before the freeze (the harness reads
// `offsetBefore`, then sends SIGSTOP: the commit can fall in between, seen in short soaks); that
// is proven when an owner that took over meanwhile started at or past the committed offset,
// since it read the offset from Redis. A commit that ran after the takeover fails that proof.
function checkFencing(name: string, history: ChaosHistory, events: ConsumerEvent[], violations: string[]): void {
  for (const fault of history.faults) {
    if (fault.kind !== 'sigstop' || fault.name !== name || fault.until === undefined) continue;
    const stale = events.filter(
      (event) => event.proc === fault.proc && event.epoch === fault.epoch && event.t >= (fault.until ?? 0),
    );
    const committedBeforeTakeover = (commit: ConsumerEvent): boolean =>
      events.some(
        (event) =>
          event.ev === 'active' &&
          ownerOf(event) !== ownerOf(commit) &&
          event.t >= fault.t &&
          event.t <= commit.t &&
          event.offset !== undefined &&
          compareIds(event.offset, commit.offset!) >= 0,
      );
    const commits = stale.filter(
      (event) =>
        event.ev === 'committed' &&
        event.offset !== undefined &&
        (fault.offsetBefore == null || compareIds(event.offset, fault.offsetBefore) > 0) &&
        !committedBeforeTakeover(event),
    );
    if (commits.length > 0) {
      violations.push(`${name}: stale owner ${fault.proc}#${fault.epoch} committed ${commits[0].offset} after SIGCONT`);
    }
    const batches = stale.filter((event) => event.ev === 'batch').length;
    if (batches > 1)
      violations.push(`${name}: stale owner ${fault.proc}#${fault.epoch} handled ${batches} batches after SIGCONT`);
  }
}

/** The end-of-run checks as printed, each with the violations that fail it. */
const CHECKS: [label: string, fails: RegExp][] = [
  ['no acknowledged write lost, no phantom entry', /lost writes|phantom|not in the stream/],
  ['every entry handled at least once by each consumer name', /^(?!group ).*entries never handled|did not catch up/],
  [
    'stream order per owner: no skip, no out-of-order first delivery',
    /skipped entries|out of stream order|went back without|before its start offset/,
  ],
  ['each new owner starts at the last commit (or at a commit whose log line was lost)', /started after/],
  ['duplicates at most one batch per takeover', /re-handled|duplicate deliveries exceed|went back \d+ entries/],
  ['stale (SIGSTOPped) owners fenced; no offset ever moved back', /stale owner|moved back/],
  ['the trimmer removed nothing uncommitted', /trimmer deleted/],
  ['takeover within lock ttl + standby poll + slack', /takeover/],
  ['graceful stops; no process left running', /did not (exit|stop)|processes left running/],
];

/** The group-mode checks, printed in group mode only. */
const GROUP_CHECKS: [label: string, fails: RegExp][] = [
  ['group: every entry but the poison ones handled at least once', /^group .*(never handled|not in the stream)/],
  ['group: dead letters exactly the injected poison entries', /^group .*(dead letters|poison entries)/],
  ['group: nothing pending after the drain', /^group .*pending/],
];

/** The report as lines for the console. */
export function formatReport(report: ChaosReport, history: ChaosHistory): string[] {
  const { figures } = report;
  const lines = [
    `stream entries: ${figures.streamEntries}; payload ids acknowledged: ${figures.payloadIdsAcknowledged}`,
    `faults: ${Object.entries(figures.faults)
      .map(([kind, count]) => `${kind} x${count}`)
      .join(', ')}`,
  ];
  for (const [name, f] of Object.entries(figures.names)) {
    lines.push(
      `${name}: handled ${f.handled}/${figures.streamEntries}, duplicates ${f.duplicates}, owners ${f.owners}, ` +
        `max replays at a takeover ${f.failoverReplaysMax} (batch ${history.batchSize}), ` +
        `max re-handled by one owner ${f.takeoverDuplicatesMax}, replays after errors ${f.errorReplays}, ` +
        `late batches of stale owners ${f.lateStaleBatches}, starts before the last commit ${f.startsBeforeLastCommit}, at an unlogged commit ${f.startsAtUnloggedCommit}`,
    );
  }
  if (figures.group && history.group) {
    const g = figures.group;
    lines.push(
      `group ${history.group.name}: handled ${g.handled}/${figures.streamEntries - g.poisonEntries} (+${g.poisonEntries} poison), ` +
        `dead letters ${g.deadLetters}, duplicates ${g.duplicates}, members that handled ${g.members}, ` +
        `entries claimed ${g.claimed}, pending after the drain ${String(g.pendingAtEnd)}`,
    );
  }
  for (const [kind, lag] of Object.entries(figures.takeover)) {
    lines.push(
      `takeover after ${kind}: median ${lag.medianMs} ms, max ${lag.maxMs} ms over ${lag.count} ` +
        `(lock ttl ${history.lockTtlMs} ms, standby poll ${history.standbyPollMs} ms)`,
    );
  }
  lines.push(
    `progress again after a fault (next commit per name; median/max ms): ${Object.entries(figures.recovery)
      .map(([kind, lag]) => `${kind} ${lag.medianMs}/${lag.maxMs}`)
      .join(', ')}`,
  );
  for (const [label, fails] of history.group ? [...CHECKS, ...GROUP_CHECKS] : CHECKS) {
    const failed = report.violations.filter((violation) => fails.test(violation)).length;
    const detail = label.startsWith('the trimmer') ? ` (${history.witnessSnapshots ?? 0} snapshots)` : '';
    lines.push(
      `check ${failed === 0 ? 'OK    ' : 'FAILED'} ${label}${detail}${failed ? `: ${failed} violation(s)` : ''}`,
    );
  }
  lines.push(report.ok ? 'RESULT: OK, no violation' : `RESULT: ${report.violations.length} violation(s)`);
  for (const violation of report.violations) lines.push(`  VIOLATION ${violation}`);
  return lines;
}
