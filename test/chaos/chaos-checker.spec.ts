import { ChaosHistory, checkHistory, ConsumerEvent, formatReport, GroupHistory } from './chaos-checker';

// The checker must be able to fail: each history below has exactly one kind of fault in it.
const allIds = Array.from({ length: 30 }, (_, i) => `1000-${i}`);
const ids = allIds.slice(0, 10);

function batch(proc: string, epoch: number, t: number, positions: number[]): ConsumerEvent {
  return { proc, epoch, t, ev: 'batch', ids: positions.map((at) => allIds[at]) };
}

/** An owner becoming active after `offset`, as the harness logs it. */
function active(proc: string, epoch: number, t: number, offset = '0-0'): ConsumerEvent {
  return { proc, epoch, t, ev: 'active', offset };
}

/** A batch handled and then committed (the library logs the commit before the next batch). */
function handled(proc: string, epoch: number, t: number, positions: number[]): ConsumerEvent[] {
  return [
    batch(proc, epoch, t, positions),
    { proc, epoch, t: t + 1, ev: 'committed', offset: allIds[positions.at(-1)!] },
  ];
}

function history(events: ConsumerEvent[], overrides: Partial<ChaosHistory> = {}, length = 10): ChaosHistory {
  const streamIds = allIds.slice(0, length);
  return {
    consumerNames: ['indexer'],
    batchSize: 3,
    lockTtlMs: 1_000,
    standbyPollMs: 100,
    stream: streamIds.map((id, i) => ({ id, payloadId: i + 1 })),
    attemptedPayloadIds: streamIds.map((_, i) => i + 1),
    acks: streamIds.map((id, i) => ({ payloadId: i + 1, kind: 'queue' as const, entryId: id })),
    events: { indexer: events },
    faults: [],
    witnessViolations: [],
    leftovers: [],
    converged: true,
    ...overrides,
  };
}

const ownerA = [active('a', 1, 0), ...handled('a', 1, 10, [0, 1, 2]), ...handled('a', 1, 20, [3, 4, 5])];
// a is killed while handling 6..8; b takes over from the committed offset (after 5).
const ownerB = [active('b', 1, 2_000, ids[5]), ...handled('b', 1, 2_010, [6, 7, 8]), ...handled('b', 1, 2_020, [9])];
const clean = [...ownerA, ...ownerB];

describe('chaos checker', () => {
  it('accepts a clean history with a takeover', () => {
    const report = checkHistory(
      history(clean, { faults: [{ kind: 'kill9', t: 1_500, name: 'indexer', proc: 'a', epoch: 1 }] }),
    );
    expect(report.violations).toEqual([]);
    expect(report.figures.names.indexer).toMatchObject({ handled: 10, duplicates: 0, owners: 2 });
    expect(report.figures.takeover.kill9).toEqual({ count: 1, medianMs: 500, maxMs: 500 });
  });

  it('accepts replays of one batch after a takeover, and counts them', () => {
    const events = [...ownerA, batch('a', 1, 30, [6, 7]), ...ownerB];
    const report = checkHistory(history(events));
    expect(report.violations).toEqual([]);
    expect(report.figures.names.indexer).toMatchObject({ duplicates: 2, failoverReplaysMax: 2 });
  });

  it('reports an entry nobody handled', () => {
    const events = clean.filter((event) => event.t < 2_020);
    expect(checkHistory(history(events)).violations).toEqual([
      expect.stringMatching(/indexer: entries never handled: 1000-9/),
    ]);
  });

  it('reports an acknowledged write that is missing from the stream', () => {
    const acks = [{ payloadId: 11, kind: 'queue' as const, entryId: '1000-99' }];
    const report = checkHistory(history(clean, { acks, attemptedPayloadIds: [...Array(11).keys()].map((i) => i + 1) }));
    expect(report.violations).toEqual([
      expect.stringMatching(/lost writes: acknowledged entries missing from the stream: 1000-99/),
      expect.stringMatching(/acknowledged payload ids never in the stream: 11/),
    ]);
  });

  it('reports a phantom entry and a handled id that is not in the stream', () => {
    const report = checkHistory(
      history([...clean, { proc: 'b', epoch: 1, t: 2_030, ev: 'batch', ids: ['5-5'] }], {
        attemptedPayloadIds: [1, 2, 3, 4, 5, 6, 7, 8, 9],
      }),
    );
    expect(report.violations).toEqual([
      expect.stringMatching(/phantom entries .*1000-9/),
      expect.stringMatching(/handled entries that are not in the stream: 5-5/),
    ]);
  });

  it('reports a skip within one owner', () => {
    const events = [
      active('a', 1, 0),
      batch('a', 1, 10, [0, 1, 2]),
      batch('a', 1, 20, [4, 5, 6]),
      batch('a', 1, 30, [7, 8, 9]),
    ];
    const violations = checkHistory(history(events)).violations;
    expect(violations).toContainEqual(
      expect.stringMatching(/skipped entries within one owner: a#1 jumped from 1000-2 to 1000-4/),
    );
    expect(violations).toContainEqual(expect.stringMatching(/entries never handled: 1000-3/));
  });

  it('reports a takeover that skipped past uncommitted entries', () => {
    const events = [
      active('a', 1, 0),
      ...handled('a', 1, 10, [0, 1, 2]),
      active('b', 1, 2_000, ids[2]),
      batch('b', 1, 2_010, [5, 6, 7, 8, 9]),
    ];
    const violations = checkHistory(history(events)).violations;
    expect(violations).toContainEqual(
      expect.stringMatching(/first deliveries out of stream order: 1000-5 first handled while 3 was next/),
    );
    expect(violations).toContainEqual(
      expect.stringMatching(/b#1 began at 1000-5, not right after its start offset 1000-2/),
    );
  });

  it('reports more duplicates than one batch per takeover', () => {
    const events = [...ownerA, active('b', 1, 2_000, ids[5]), batch('b', 1, 2_010, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])];
    const violations = checkHistory(history(events)).violations;
    expect(violations).toContainEqual(
      expect.stringMatching(/b#1 re-handled 6 entries after taking over \(batch size 3\)/),
    );
    expect(violations).toContainEqual(expect.stringMatching(/6 duplicate deliveries exceed 3/));
  });

  describe("each new owner's starting offset against the last commit", () => {
    // a handled 3..5, but its commit of 1000-5 was refused (fenced: the library logs standby).
    const fencedA = [
      active('a', 1, 0),
      ...handled('a', 1, 10, [0, 1, 2]),
      batch('a', 1, 20, [3, 4, 5]),
      {
        proc: 'a',
        epoch: 1,
        t: 25,
        ev: 'standby' as const,
        msg: 'lost its lock before committing 1000-5; not committed',
      },
    ];
    const bFrom5 = [
      active('b', 1, 2_000, ids[5]),
      ...handled('b', 1, 2_010, [6, 7, 8]),
      ...handled('b', 1, 2_020, [9]),
    ];

    it('reports a new owner starting past the last commit, skipping a batch only a fenced owner saw', () => {
      const report = checkHistory(history([...fencedA, ...bFrom5]));
      expect(report.violations).toEqual([
        expect.stringMatching(
          /indexer: b#1 started after 1000-5, past the last commit 1000-2 \(only a#1 handled up to it, without committing\)/,
        ),
      ]);
      expect(report.ok).toBe(false);
    });

    it('accepts a start past the logged commits when the commit may have run without its log line', () => {
      // a was killed (or lost the reply) after committing 1000-5, before logging it.
      const killed = [active('a', 1, 0), ...handled('a', 1, 10, [0, 1, 2]), batch('a', 1, 20, [3, 4, 5])];
      expect(checkHistory(history([...killed, ...bFrom5])).violations).toEqual([]);
      const replyLost = [...killed, { proc: 'a', epoch: 1, t: 30, ev: 'failed' as const, msg: 'Command timed out' }];
      expect(checkHistory(history([...replyLost, ...bFrom5])).violations).toEqual([]);
      // a froze between the commit and its log line, which it wrote after b took over.
      const frozen = [
        ...killed,
        ...bFrom5,
        { proc: 'a', epoch: 1, t: 3_000, ev: 'committed' as const, offset: ids[5] },
      ];
      expect(checkHistory(history(frozen)).violations).toEqual([]);
      // The refusal came after Redis restarted: ioredis re-sent a commit that had run before, and
      // its copy was refused, so "not committed" is not proof (seen in a short soak).
      const restart = { kind: 'redis-restart' as const, t: 22, until: 24 };
      const report = checkHistory(history([...fencedA, ...bFrom5], { faults: [restart] }));
      expect(report.violations).toEqual([]);
      expect(report.figures.names.indexer).toMatchObject({ startsAtUnloggedCommit: 1, startsBeforeLastCommit: 0 });
    });

    it('accepts the new owner of the fenced batch starting at the last commit, and counts its replays', () => {
      const bFrom2 = [active('b', 1, 2_000, ids[2]), ...handled('b', 1, 2_010, [3, 4, 5]), ...bFrom5.slice(1)];
      const report = checkHistory(history([...fencedA, ...bFrom2]));
      expect(report.violations).toEqual([]);
      expect(report.figures.names.indexer).toMatchObject({ duplicates: 3, takeoverDuplicatesMax: 3 });
    });
  });

  it('reports one takeover that re-delivers three committed batches, however clean the other takeovers', () => {
    // a..e each handle and commit one batch, then hand over cleanly (four clean takeovers);
    // f starts back at 1000-5 and re-delivers the three batches c, d and e committed.
    const owners = ['a', 'b', 'c', 'd', 'e'].flatMap((proc, i) => [
      active(proc, 1, 1_000 * i, i === 0 ? '0-0' : allIds[3 * i - 1]),
      ...handled(proc, 1, 1_000 * i + 10, [3 * i, 3 * i + 1, 3 * i + 2]),
    ]);
    const f = [
      active('f', 1, 5_000, allIds[5]),
      ...[6, 9, 12, 15].flatMap((from, i) => handled('f', 1, 5_010 + 10 * i, [from, from + 1, from + 2])),
      ...handled('f', 1, 5_100, [18, 19]),
    ];
    const report = checkHistory(history([...owners, ...f], {}, 20));
    expect(report.violations).toEqual([
      expect.stringMatching(/indexer: f#1: 9 duplicate deliveries exceed 3 \(the batch in flight at its takeover/),
    ]);
    expect(report.figures.names.indexer).toMatchObject({
      owners: 6,
      duplicates: 9,
      takeoverDuplicatesMax: 9,
      startsBeforeLastCommit: 1,
    });
  });

  it('reports an owner going back without a failure, and accepts it after one', () => {
    const back = [
      active('a', 1, 0),
      batch('a', 1, 10, [0, 1, 2]),
      batch('a', 1, 20, [0, 1, 2]),
      batch('a', 1, 30, [3, 4, 5, 6, 7, 8, 9]),
    ];
    expect(checkHistory(history(back)).violations).toContainEqual(
      expect.stringMatching(/an owner went back without a failure in between: a#1 went back from 2 to 0/),
    );
    const afterFailure = [
      ...back.slice(0, 2),
      { proc: 'a', epoch: 1, t: 15, ev: 'failed' as const, msg: 'ECONNRESET' },
      ...back.slice(2),
    ];
    const report = checkHistory(history(afterFailure));
    expect(report.violations).toEqual([]);
    expect(report.figures.names.indexer).toMatchObject({ errorReplays: 1, duplicates: 3 });
  });

  it('reports a stale owner that commits or keeps handling after SIGCONT', () => {
    const sigstop = {
      kind: 'sigstop' as const,
      t: 100,
      until: 3_000,
      name: 'indexer',
      proc: 'a',
      epoch: 1,
      offsetBefore: ids[2],
    };
    const stale = [
      active('a', 1, 0),
      ...handled('a', 1, 10, [0, 1, 2]),
      active('b', 1, 1_200, ids[2]),
      batch('b', 1, 1_210, [3, 4, 5]),
      batch('b', 1, 1_220, [6, 7, 8, 9]),
      batch('a', 1, 3_010, [3, 4, 5]),
      { proc: 'a', epoch: 1, t: 3_020, ev: 'committed' as const, offset: ids[5] },
      batch('a', 1, 3_030, [6, 7, 8]),
    ];
    const violations = checkHistory(history(stale, { faults: [sigstop], batchSize: 4 })).violations;
    expect(violations).toContainEqual(expect.stringMatching(/stale owner a#1 committed 1000-5 after SIGCONT/));
    expect(violations).toContainEqual(expect.stringMatching(/stale owner a#1 handled 2 batches after SIGCONT/));
  });

  it('accepts the late log line of a commit that ran before the freeze, as the new owner read it', () => {
    // The harness read offsetBefore (1000-2), a committed 1000-5, then SIGSTOP came before the
    // log line; b started at 1000-5, so the commit ran before the takeover.
    const sigstop = {
      kind: 'sigstop' as const,
      t: 100,
      until: 3_000,
      name: 'indexer',
      proc: 'a',
      epoch: 1,
      offsetBefore: ids[2],
    };
    const late = [
      active('a', 1, 0),
      ...handled('a', 1, 10, [0, 1, 2]),
      batch('a', 1, 90, [3, 4, 5]),
      active('b', 1, 1_200, ids[5]),
      ...handled('b', 1, 1_210, [6, 7, 8, 9]),
      { proc: 'a', epoch: 1, t: 3_010, ev: 'committed' as const, offset: ids[5] },
    ];
    expect(checkHistory(history(late, { faults: [sigstop], batchSize: 4 })).violations).toEqual([]);
    // Had b started before it, the stale commit ran after the takeover: not fenced.
    const unfenced = late.map((event) =>
      event.ev === 'active' && event.proc === 'b' ? { ...event, offset: ids[2] } : event,
    );
    expect(checkHistory(history(unfenced, { faults: [sigstop], batchSize: 4 })).violations).toContainEqual(
      expect.stringMatching(/stale owner a#1 committed 1000-5 after SIGCONT/),
    );
  });

  it('reports a slow takeover, a run that did not converge and leftover processes', () => {
    const report = checkHistory(
      history(clean, {
        faults: [{ kind: 'kill9', t: -10_000, name: 'indexer', proc: 'x', epoch: 1 }],
        converged: false,
        leftovers: ['123 node consumer-app.js'],
      }),
    );
    expect(report.violations).toEqual([
      expect.stringMatching(/takeover after kill9 took 10000 ms/),
      'the consumers did not catch up with the stream by the end of the run',
      'processes left running: 123 node consumer-app.js',
    ]);
  });
});

describe('chaos checker, group mode', () => {
  // Ten entries with payload ids 1..10; payload 4 (entry 1000-3) and 8 (entry 1000-7) are poison.
  const poisonPayloadIds = [4, 8];
  const healthy = [0, 1, 2, 4, 5, 6, 8, 9];
  const member = (proc: string, t: number, positions: number[]): ConsumerEvent => batch(proc, 1, t, positions);
  // Two members share the healthy entries, one re-handles an entry it claimed from the other.
  const sharedWork = [
    member('m1', 10, [0, 1, 2]),
    member('m2', 11, [4, 5]),
    member('m1', 20, [6]),
    member('m2', 21, [8, 9]),
    member('m2', 30, [6]),
    { proc: 'm2', epoch: 1, t: 29, ev: 'claimed' as const, msg: '1' },
  ];

  function groupHistory(overrides: Partial<GroupHistory> = {}): ChaosHistory {
    return history([], {
      consumerNames: [],
      events: {},
      group: {
        name: 'workers',
        events: sharedWork,
        poisonPayloadIds,
        deadLetterIds: [allIds[3], allIds[7]],
        pendingAtEnd: 0,
        ...overrides,
      },
    });
  }

  it('accepts every healthy entry handled by some member, the poison ones dead-lettered, nothing pending', () => {
    const report = checkHistory(groupHistory());
    expect(report.violations).toEqual([]);
    expect(report.figures.group).toEqual({
      handled: healthy.length,
      poisonEntries: 2,
      deadLetters: 2,
      duplicates: 1,
      members: 2,
      claimed: 1,
      pendingAtEnd: 0,
    });
    const lines = formatReport(report, groupHistory());
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^check OK .*dead letters exactly/)]));
  });

  it('reports a healthy entry no member handled', () => {
    const events = sharedWork.filter((event) => event.t !== 21);
    expect(checkHistory(groupHistory({ events })).violations).toEqual([
      'group workers: entries never handled: 1000-8 (payload 9), 1000-9 (payload 10)',
    ]);
  });

  it('reports a healthy entry in the dead letters, and a poison entry missing from them', () => {
    const report = checkHistory(groupHistory({ deadLetterIds: [allIds[3], allIds[5]] }));
    expect(report.violations).toEqual([
      'group workers: dead letters that are not injected poison entries: 1000-5',
      'group workers: poison entries missing from the dead letters: 1000-7',
    ]);
    expect(formatReport(report, groupHistory())).toEqual(
      expect.arrayContaining([expect.stringMatching(/^check FAILED group: dead letters exactly .*2 violation/)]),
    );
  });

  it('reports a poison entry logged as handled', () => {
    const events = [...sharedWork, member('m1', 40, [3])];
    expect(checkHistory(groupHistory({ events })).violations).toEqual([
      'group workers: poison entries logged as handled (their handler throws): 1000-3',
    ]);
  });

  it('reports entries still pending after the drain, or a pending count it could not read', () => {
    expect(checkHistory(groupHistory({ pendingAtEnd: 2 })).violations).toEqual([
      'group workers: 2 entries still pending after the drain',
    ]);
    expect(checkHistory(groupHistory({ pendingAtEnd: null })).violations).toEqual([
      'group workers: the pending count could not be read after the drain',
    ]);
  });

  it('reports a handled id that is not in the stream', () => {
    const events = [...sharedWork, { proc: 'm1', epoch: 1, t: 50, ev: 'batch' as const, ids: ['9999-0'] }];
    expect(checkHistory(groupHistory({ events })).violations).toEqual([
      'group workers: handled entries that are not in the stream: 9999-0',
    ]);
  });
});
