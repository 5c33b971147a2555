import { ChildProcess, fork, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startRedisServer, RedisServerHandle } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import {
  ChaosHistory,
  ChaosReport,
  checkHistory,
  compareIds,
  ConsumerEvent,
  FaultKind,
  FaultRecord,
  formatReport,
  ProducerAck,
  WitnessEntry,
} from './chaos-checker';
import { SeededRandom } from './seeded-random';

/** Everything a chaos run can be told; see `FULL_RUN` and `SHORT_RUN`. */
export interface ChaosOptions {
  messages: number;
  ratePerSec: number;
  seed: number;
  /** Pause between two faults, drawn from [min, max] ms. */
  faultGapMs: [number, number];
  /** Faults to inject, each at least once, in a seeded order; kill9 is topped up to `minKill9`. */
  faultKinds: FaultKind[];
  minKill9: number;
  /** Extra random faults beyond the required ones. */
  extraFaults: number;
  consumerNames: string[];
  processesPerName: number;
  batchSize: number;
  lockTtlMs: number;
  lockRefreshMs: number;
  standbyPollMs: number;
  blockMs: number;
  readGraceMs: number;
  delayMs: number;
  trimIntervalMs: number;
  convergeTimeoutMs: number;
  /** The compiled library (`dist/`) the app processes require. */
  dist: string;
  /** App processes as NestJS applications (RedstreamModule, decorators) or on the bare engine. */
  app: 'nest' | 'engine';
  /** Progress lines; the report is printed by the caller. */
  log: (line: string) => void;
  /** Keep the run directory (logs, AOF) after a passing run. Failing runs always keep it. */
  keepDir?: boolean;
  /**
   * Group mode: the app processes are members of one consumer group (`@RedstreamGroupConsumer`
   * or the engine's GroupConsumer) instead of offset consumers (leave `consumerNames` empty),
   * each also running the HA Delayer and Trimmer; `poisonCount` payload ids, drawn from the
   * seed, make the handler throw every time and must end up exactly in `<stream>.dead`.
   */
  group?: ChaosGroupOptions;
}

export interface ChaosGroupOptions {
  name: string;
  processes: number;
  poisonCount: number;
  maxDeliveries: number;
  claimIdleMs: number;
  claimIntervalMs: number;
}

const ALL_FAULTS: FaultKind[] = [
  'kill9',
  'sigterm',
  'sigstop',
  'client-kill',
  'redis-restart',
  'handler-throws',
  'latency',
  'blackhole',
  'stall',
  'reset',
  'lost-replies',
];

const TIMING = {
  batchSize: 25,
  lockTtlMs: 1_500,
  lockRefreshMs: 500,
  standbyPollMs: 250,
  blockMs: 1_000,
  readGraceMs: 1_000,
  delayMs: 1_000,
  trimIntervalMs: 500,
};

export const FULL_RUN: Omit<ChaosOptions, 'dist' | 'log'> = {
  app: 'nest',
  messages: 12_000,
  ratePerSec: 80,
  seed: 20261124,
  faultGapMs: [1_500, 3_500],
  faultKinds: ALL_FAULTS,
  minKill9: 12,
  extraFaults: 16,
  consumerNames: ['indexer', 'cacher'],
  processesPerName: 3,
  convergeTimeoutMs: 90_000,
  ...TIMING,
};

export const SHORT_RUN: Omit<ChaosOptions, 'dist' | 'log'> = {
  ...FULL_RUN,
  messages: 1_200,
  ratePerSec: 60,
  faultGapMs: [800, 1_500],
  faultKinds: ['kill9', 'sigstop', 'redis-restart', 'blackhole', 'lost-replies', 'client-kill'],
  minKill9: 2,
  extraFaults: 0,
  processesPerName: 2,
  convergeTimeoutMs: 30_000,
};

/**
 * Group mode: members of one group under every fault but `handler-throws` (an outage of every
 * handler that outlasts `maxDeliveries` dead-letters healthy entries, as documented, which the
 * dead-letter check would flag), with poison entries.
 */
export const GROUP_FULL_RUN: Omit<ChaosOptions, 'dist' | 'log'> = {
  ...FULL_RUN,
  messages: 6_000,
  faultKinds: ALL_FAULTS.filter((kind) => kind !== 'handler-throws'),
  consumerNames: [],
  group: {
    name: 'workers',
    processes: 3,
    poisonCount: 10,
    maxDeliveries: 6,
    claimIdleMs: 2_000,
    claimIntervalMs: 500,
  },
};

/** The short run in group mode: three members under kills, a freeze and Redis faults. */
export const GROUP_SHORT_RUN: Omit<ChaosOptions, 'dist' | 'log'> = {
  ...SHORT_RUN,
  messages: 600,
  faultKinds: ['kill9', 'sigstop', 'redis-restart', 'lost-replies'],
  minKill9: 2,
  consumerNames: [],
  group: { ...GROUP_FULL_RUN.group!, poisonCount: 3 },
};

interface AppProcess {
  proc: string;
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  owner?: string;
  epoch: number;
}

const FIXTURES = join(__dirname, 'fixtures');

/** Runs one chaos soak and checks it. Never throws for a violation: read `report.ok`. */
export async function runChaos(options: ChaosOptions): Promise<{ report: ChaosReport; lines: string[]; dir: string }> {
  const run = new ChaosRun(options);
  try {
    const history = await run.execute();
    const report = checkHistory(history);
    const lines = formatReport(report, history);
    if (report.ok && !options.keepDir) rmSync(run.dir, { recursive: true, force: true });
    else lines.push(`logs and data kept in ${run.dir}`);
    return { report, lines, dir: run.dir };
  } finally {
    await run.teardown();
  }
}

class ChaosRun {
  readonly dir = mkdtempSync(join(tmpdir(), 'redstream-chaos-'));
  private readonly random: SeededRandom;
  private readonly namespace = 'chaos';
  private readonly stream = 'products';
  private readonly apps: AppProcess[] = [];
  private readonly faults: FaultRecord[] = [];
  private readonly witnessViolations: string[] = [];
  private readonly witnessEntries: WitnessEntry[] = [];
  private readonly startedAt = Date.now();
  private server?: RedisServerHandle;
  private proxy?: TcpProxy;
  private admin?: Redis;
  private witness?: Redis;
  private witnessRunning = false;
  private witnessDone?: Promise<void>;
  private producer?: ChildProcess;
  private producerExit?: Promise<number | null>;
  private nextProc = 1;
  private readonly lastOffsets = new Map<string, string>();
  private snapshots = 0;
  /** Group mode: the payload ids whose handler always throws. */
  private readonly poisonPayloadIds: number[] = [];

  constructor(private readonly options: ChaosOptions) {
    this.random = new SeededRandom(options.seed);
    if (options.group) {
      const ids = this.random.shuffle(Array.from({ length: options.messages }, (_, index) => index + 1));
      this.poisonPayloadIds = ids.slice(0, options.group.poisonCount).sort((a, b) => a - b);
    }
    mkdirSync(join(this.dir, 'logs'));
    mkdirSync(join(this.dir, 'redis'));
  }

  private key(suffix: string): string {
    return `${this.namespace}:redstream:${suffix}`;
  }

  private say(line: string): void {
    this.options.log(`[chaos +${((Date.now() - this.startedAt) / 1000).toFixed(1)}s] ${line}`);
  }

  async execute(): Promise<ChaosHistory> {
    const o = this.options;
    this.server = await startRedisServer({
      dir: join(this.dir, 'redis'),
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    this.proxy = await TcpProxy.start(this.server.port);
    // Direct connections, past the proxy; their errors during restarts are expected and retried.
    this.admin = new Redis(this.server.port, { maxRetriesPerRequest: 1 }).on('error', () => undefined);
    this.witness = new Redis(this.server.port, { maxRetriesPerRequest: 1 }).on('error', () => undefined);
    this.say(
      `redis-server (AOF, fsync always) on ${this.server.port}, clients through the proxy on ${this.proxy.port}; seed ${o.seed}`,
    );
    // The witness registers as one more consumer, so the trimmer cannot delete an entry before
    // the witness has recorded it: the witness's list is the stream's complete history.
    await this.admin.sadd(this.key(`consumers:${this.stream}`), 'witness');
    this.witnessRunning = true;
    this.witnessDone = this.runWitness();

    for (const name of o.consumerNames) for (let i = 0; i < o.processesPerName; i++) this.spawnApp(name);
    if (o.group) for (let i = 0; i < o.group.processes; i++) this.spawnApp(o.group.name);
    await this.waitUntil(
      async () =>
        (await this.activeApps()).length === o.consumerNames.length &&
        this.activeMembers().length === (o.group?.processes ?? 0),
      20_000,
      o.group ? 'every group member is active' : 'every name has an active consumer',
    );
    this.startProducer();
    const producerDone = this.producerExit!.then((code) => {
      if (code !== 0) throw new Error(`the producer exited with ${code}; see ${this.dir}/logs`);
    });

    const plan = this.faultPlan();
    this.say(
      `${o.app === 'nest' ? 'NestJS' : 'engine'} app processes${o.group ? ` in group ${o.group.name}, poison payload ids ${this.poisonPayloadIds.join(', ')}` : ''}; fault plan: ${plan.join(', ')}`,
    );
    let finished = false;
    void producerDone.finally(() => (finished = true)).catch(() => undefined);
    for (const kind of plan) {
      await sleep(this.random.int(o.faultGapMs[0], o.faultGapMs[1]));
      await this.inject(kind);
    }
    if (!finished) this.say('fault plan done; waiting for the producer');
    await producerDone;
    this.say('producer acknowledged every id; waiting for the consumers to catch up');
    this.proxy.heal();
    const converged = o.group ? await this.convergeGroup(o.group.name) : await this.converge();
    const groupEnd = o.group ? await this.groupEnd(o.group.name) : undefined;
    const leftovers = await this.shutdown();
    return this.history(converged, leftovers, groupEnd);
  }

  // --- processes -----------------------------------------------------------------------------

  private appConfig(proc: string, extra: Record<string, unknown>): string {
    const o = this.options;
    return JSON.stringify({
      proc,
      dist: o.dist,
      redisUrl: this.proxy!.url,
      namespace: this.namespace,
      stream: this.stream,
      eventFile: join(this.dir, 'logs', `${proc}.jsonl`),
      ...extra,
    });
  }

  private forkFixture(file: string, proc: string, config: string): ChildProcess {
    const output = openSync(join(this.dir, 'logs', `${proc}.log`), 'a');
    // The run directory in argv lets the final check find any process of this run with pgrep.
    const child = fork(join(FIXTURES, file), [this.dir, proc], {
      env: { ...process.env, CHAOS_APP_CONFIG: config },
      stdio: ['ignore', output, output, 'ipc'],
    });
    closeSync(output);
    return child;
  }

  private spawnApp(name: string): AppProcess {
    const o = this.options;
    const proc = `${name}-${this.nextProc++}`;
    const child = this.forkFixture(
      o.app === 'nest' ? 'nest-app.js' : 'consumer-app.js',
      proc,
      this.appConfig(proc, {
        name,
        // In group mode every member also runs the (HA) Delayer and Trimmer.
        maintenance: o.group !== undefined || name === o.consumerNames[0],
        group: o.group && { ...o.group, poisonPayloadIds: this.poisonPayloadIds },
        consumerNames: o.consumerNames,
        delayMs: o.delayMs,
        trimIntervalMs: o.trimIntervalMs,
        handlerMaxMs: 15,
        timing: {
          batchSize: o.batchSize,
          lockTtlMs: o.lockTtlMs,
          lockRefreshMs: o.lockRefreshMs,
          standbyPollMs: o.standbyPollMs,
          blockMs: o.blockMs,
          readGraceMs: o.readGraceMs,
          backoffInitialMs: 50,
          backoffMaxMs: 1_000,
        },
      }),
    );
    const app: AppProcess = {
      proc,
      name,
      child,
      epoch: 0,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    child.on('message', (message: { ev?: string; owner?: string; epoch?: number }) => {
      if (message.ev === 'active') {
        app.owner = message.owner;
        app.epoch = message.epoch ?? app.epoch;
      }
    });
    this.apps.push(app);
    return app;
  }

  private startProducer(): void {
    const o = this.options;
    this.producer = this.forkFixture(
      'producer-app.js',
      'producer',
      this.appConfig('producer', {
        messages: o.messages,
        ratePerSec: o.ratePerSec,
        seed: o.seed,
        commandTimeoutMs: 2_000,
      }),
    );
    this.producerExit = new Promise((resolve) => this.producer!.once('exit', (code) => resolve(code)));
  }

  private isAlive(child: ChildProcess): boolean {
    return child.exitCode === null && child.signalCode === null;
  }

  /** The app processes that hold their name's lock right now, by the lock key in Redis. */
  private async activeApps(): Promise<AppProcess[]> {
    const active: AppProcess[] = [];
    for (const name of this.options.consumerNames) {
      const owner = await this.admin!.get(this.key(`lock:consumer:${this.stream}:${name}`)).catch(() => null);
      const app = this.apps.find((candidate) => candidate.owner === owner && this.isAlive(candidate.child));
      if (owner && app) active.push(app);
    }
    return active;
  }

  /** Group mode: the live processes whose group consumer reported itself active (as member `owner`). */
  private activeMembers(): AppProcess[] {
    const group = this.options.group?.name;
    return this.apps.filter((app) => app.name === group && app.owner !== undefined && this.isAlive(app.child));
  }

  private async activeAppOf(name: string): Promise<AppProcess | undefined> {
    if (name === this.options.group?.name) {
      const deadline = Date.now() + 8_000;
      while (Date.now() < deadline) {
        const members = this.activeMembers();
        if (members.length > 0) return this.random.pick(members);
        await sleep(100);
      }
      return undefined;
    }
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline) {
      const app = (await this.activeApps()).find((candidate) => candidate.name === name);
      if (app) return app;
      await sleep(100);
    }
    return undefined;
  }

  // --- faults --------------------------------------------------------------------------------

  private faultPlan(): FaultKind[] {
    const o = this.options;
    const plan = [...o.faultKinds];
    const kills = plan.filter((kind) => kind === 'kill9').length;
    for (let i = kills; i < o.minKill9; i++) plan.push('kill9');
    for (let i = 0; i < o.extraFaults; i++) plan.push(this.random.pick(o.faultKinds));
    return this.random.shuffle(plan);
  }

  private async offsetOf(name: string): Promise<string | null> {
    return this.admin!.get(this.key(`offset:${this.stream}:${name}`)).catch(() => null);
  }

  private async inject(kind: FaultKind): Promise<void> {
    const o = this.options;
    const proxy = this.proxy!;
    const t = Date.now();
    switch (kind) {
      case 'kill9':
      case 'sigterm':
      case 'sigstop': {
        const name = o.group ? o.group.name : this.random.pick(o.consumerNames);
        const app = await this.activeAppOf(name);
        if (!app) {
          this.say(`${kind}: no active ${name} found; skipped`);
          return;
        }
        // A group member has no lock to take over and no offset: its fault names no consumer, so
        // the takeover and fencing checks leave it out; the group checks cover what it held.
        const fault: FaultRecord = o.group
          ? { kind, t: Date.now(), proc: app.proc, note: `member of group ${name}` }
          : {
              kind,
              t: Date.now(),
              name,
              proc: app.proc,
              epoch: app.epoch,
              offsetBefore: await this.offsetOf(name),
            };
        this.faults.push(fault);
        if (kind === 'sigstop') {
          app.child.kill('SIGSTOP');
          const frozenMs = o.lockTtlMs * 2 + this.random.int(0, 500);
          this.say(`SIGSTOP ${app.proc} (active ${name}) for ${frozenMs} ms`);
          await sleep(frozenMs);
          fault.until = Date.now();
          app.child.kill('SIGCONT');
          return;
        }
        app.child.kill(kind === 'kill9' ? 'SIGKILL' : 'SIGTERM');
        this.say(`${kind === 'kill9' ? 'kill -9' : 'SIGTERM'} ${app.proc} (active ${name})`);
        if (kind === 'sigterm') {
          const exited = await within(app.exited, 10_000);
          if (!exited) this.witnessViolations.push(`${app.proc} did not exit within 10 s of SIGTERM`);
        }
        await sleep(this.random.int(200, 800));
        this.spawnApp(name);
        return;
      }
      case 'client-kill': {
        const killed = await this.admin!.client('KILL', 'TYPE', 'normal').catch(() => 0);
        this.faults.push({ kind, t, note: `${String(killed)} connections` });
        this.say(`CLIENT KILL TYPE normal: ${String(killed)} connections`);
        return;
      }
      case 'redis-restart': {
        const downMs = this.random.int(500, 1_500);
        this.say(`SHUTDOWN redis for ${downMs} ms`);
        await this.admin!.call('SHUTDOWN').catch(() => undefined);
        await this.server!.stop();
        await sleep(downMs);
        this.server = await startRedisServer({
          port: this.server!.port,
          dir: this.server!.dir,
          args: ['--appendonly', 'yes', '--appendfsync', 'always'],
        });
        this.faults.push({ kind, t, until: Date.now() });
        return;
      }
      case 'handler-throws': {
        const name = this.random.pick(o.consumerNames);
        const ms = this.random.int(1_500, 3_000);
        for (const app of this.apps)
          if (app.name === name && this.isAlive(app.child)) app.child.send({ cmd: 'fail', ms }, () => undefined);
        this.faults.push({ kind, t, name, until: t + ms });
        this.say(`handlers of ${name} throw for ${ms} ms`);
        return;
      }
      case 'latency': {
        const ms = this.random.int(30, 200);
        proxy.setLatency(ms);
        this.say(`latency ${ms} ms`);
        await sleep(this.random.int(2_000, 4_000));
        proxy.heal();
        this.faults.push({ kind, t, until: Date.now(), note: `${ms} ms` });
        return;
      }
      case 'blackhole': {
        // Longer than block + grace, so the blocking reads' watchdog must fire.
        const ms = o.blockMs + o.readGraceMs + this.random.int(500, 2_000);
        proxy.blackhole();
        this.say(`blackhole (connections open, no bytes) for ${ms} ms`);
        await sleep(ms);
        proxy.heal();
        this.faults.push({ kind, t, until: Date.now() });
        return;
      }
      case 'stall': {
        const stalled = proxy.openConnections;
        proxy.stallOpenConnections();
        this.faults.push({ kind, t, note: `${stalled} connections dead for good` });
        this.say(`stalled all ${stalled} open connections for good (new ones work)`);
        return;
      }
      case 'reset': {
        const open = proxy.openConnections;
        proxy.resetAll();
        this.faults.push({ kind, t, note: `${open} connections` });
        this.say(`reset ${open} connections`);
        return;
      }
      case 'lost-replies': {
        const before = proxy.stats.lostReplies;
        proxy.loseReplies(this.random.int(200, 600));
        await sleep(700);
        this.faults.push({ kind, t, note: `${proxy.stats.lostReplies - before} replies lost` });
        this.say(`lost ${proxy.stats.lostReplies - before} replies after their requests ran`);
        return;
      }
    }
  }

  // --- witness -------------------------------------------------------------------------------

  private async runWitness(): Promise<void> {
    const redis = this.witness!;
    const streamKey = this.key(`stream:${this.stream}`);
    let lastId = '0-0';
    let lastCheck = 0;
    while (this.witnessRunning) {
      try {
        const reply = (await redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', streamKey, lastId)) as
          [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) {
          this.witnessEntries.push({ id, payloadId: payloadIdOf(fields) });
          lastId = id;
        }
        if (entries.length > 0) await redis.set(this.key(`offset:${this.stream}:witness`), lastId);
        if (Date.now() - lastCheck >= 100) {
          lastCheck = Date.now();
          await this.checkSnapshot(redis, streamKey);
        }
      } catch {
        await sleep(100);
      }
    }
  }

  // In one atomic snapshot: the first entry still in the stream and every committed offset.
  // Everything before that entry was trimmed, so it must be at or below every consumer's offset;
  // and no offset may ever move back (a stale owner's commit would).
  private async checkSnapshot(redis: Redis, streamKey: string): Promise<void> {
    const names = [...this.options.consumerNames];
    const multi = redis.multi().xrange(streamKey, '-', '+', 'COUNT', 1);
    for (const name of names) multi.get(this.key(`offset:${this.stream}:${name}`));
    multi.get(this.key(`offset:${this.stream}.delay:delayer`));
    const group = this.options.group?.name;
    // Group mode: the group's last-delivered id and oldest pending id, in the same snapshot.
    if (group) multi.xinfo('GROUPS', streamKey).xpending(streamKey, group);
    const results = await multi.exec();
    if (!results || results.some(([error]) => error)) return;
    this.snapshots++;
    const first = (results[0][1] as [string, string[]][])[0]?.[0];
    const offsets = results.slice(1, names.length + 2).map(([, value]) => value as string | null);
    [...names, 'delayer'].forEach((name, index) => {
      const offset = offsets[index];
      const last = this.lastOffsets.get(name);
      if (offset && last && compareIds(offset, last) < 0)
        this.witnessViolations.push(`offset of ${name} moved back from ${last} to ${offset}`);
      if (offset) this.lastOffsets.set(name, offset);
    });
    const trimmedUpTo = this.lastTrimmed(first);
    if (!trimmedUpTo) return;
    if (group) {
      const groups = (results.at(-2)![1] as unknown[][]).map((entry) => fieldsOf(entry));
      const delivered = groups.find((entry) => entry.name === group)?.['last-delivered-id'];
      const oldestPending = (results.at(-1)![1] as [number, string | null])[1];
      const needed =
        delivered === undefined || compareIds(trimmedUpTo, delivered) > 0
          ? `the group was delivered it (last delivered ${String(delivered)})`
          : oldestPending && compareIds(trimmedUpTo, oldestPending) >= 0
            ? `the group acknowledged ${oldestPending}`
            : undefined;
      const violation = needed && `trimmer deleted ${trimmedUpTo} before ${needed} (group ${group})`;
      if (violation && !this.witnessViolations.includes(violation)) this.witnessViolations.push(violation);
    }
    names.forEach((name, index) => {
      const offset = offsets[index];
      if (!offset || compareIds(trimmedUpTo, offset) > 0) {
        this.witnessViolations.push(`trimmer deleted ${trimmedUpTo} before ${name} committed it (offset ${offset})`);
      }
    });
  }

  /** The newest entry the witness knows that is no longer in the stream, given its first entry. */
  private lastTrimmed(first: string | undefined): string | undefined {
    const entries = this.witnessEntries;
    if (entries.length === 0) return undefined;
    if (first === undefined) return entries[entries.length - 1].id;
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compareIds(entries[middle].id, first) < 0) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? undefined : entries[low - 1].id;
  }

  // --- the end -------------------------------------------------------------------------------

  private async converge(): Promise<boolean> {
    const deadline = Date.now() + this.options.convergeTimeoutMs;
    const streamKey = this.key(`stream:${this.stream}`);
    while (Date.now() < deadline) {
      try {
        const info = (await this.admin!.call('XINFO', 'STREAM', streamKey)) as unknown[];
        const last = String(info[info.indexOf('last-generated-id') + 1]);
        const delayed = await this.admin!.xlen(this.key(`stream:${this.stream}.delay`));
        const offsets = await Promise.all(this.options.consumerNames.map((name) => this.offsetOf(name)));
        const witnessLast = this.witnessEntries.at(-1)?.id;
        if (delayed === 0 && witnessLast === last && offsets.every((offset) => offset === last)) {
          this.say(`converged: every consumer committed ${last}`);
          return true;
        }
      } catch {
        // Redis may still be coming back from the last fault.
      }
      await sleep(200);
    }
    return false;
  }

  /** Group mode: the group has been handed every entry, nothing is pending and the delay stream is empty. */
  private async convergeGroup(group: string): Promise<boolean> {
    const deadline = Date.now() + this.options.convergeTimeoutMs;
    const streamKey = this.key(`stream:${this.stream}`);
    while (Date.now() < deadline) {
      try {
        const info = (await this.admin!.call('XINFO', 'STREAM', streamKey)) as unknown[];
        const last = String(info[info.indexOf('last-generated-id') + 1]);
        const delayed = await this.admin!.xlen(this.key(`stream:${this.stream}.delay`));
        const groups = (await this.admin!.call('XINFO', 'GROUPS', streamKey)) as unknown[][];
        const fields = groups.map((entry) => fieldsOf(entry)).find((entry) => entry.name === group);
        const witnessLast = this.witnessEntries.at(-1)?.id;
        if (
          delayed === 0 &&
          witnessLast === last &&
          fields?.['last-delivered-id'] === last &&
          Number(fields.pending) === 0
        ) {
          this.say(`converged: group ${group} was delivered ${last} and has nothing pending`);
          return true;
        }
      } catch {
        // Redis may still be coming back from the last fault.
      }
      await sleep(200);
    }
    return false;
  }

  /** Group mode, after the drain: the pending count and the dead letters' original ids. */
  private async groupEnd(group: string): Promise<{ pendingAtEnd: number | null; deadLetterIds: string[] }> {
    const streamKey = this.key(`stream:${this.stream}`);
    const pending = (await this.admin!.xpending(streamKey, group).catch(() => null)) as [number] | null;
    const dead = (await this.admin!.xrange(this.key(`stream:${this.stream}.dead`), '-', '+').catch(() => [])) as [
      string,
      string[],
    ][];
    return {
      pendingAtEnd: pending ? Number(pending[0]) : null,
      deadLetterIds: dead.map(([, fields]) => fieldsOf(fields).original_id).filter((id) => id !== undefined),
    };
  }

  private async shutdown(): Promise<string[]> {
    for (const app of this.apps) {
      if (!this.isAlive(app.child)) continue;
      app.child.kill('SIGCONT');
      app.child.kill('SIGTERM');
    }
    const slow: string[] = [];
    await Promise.all(
      this.apps.map(async (app) => {
        const exited = await within(app.exited, 10_000);
        if (!exited) {
          slow.push(app.proc);
          app.child.kill('SIGKILL');
          await app.exited;
        }
      }),
    );
    if (slow.length > 0) this.witnessViolations.push(`did not stop within 10 s of SIGTERM: ${slow.join(', ')}`);
    this.witnessRunning = false;
    await this.witnessDone;
    await this.teardown();
    const found = spawnSync('pgrep', ['-af', this.dir], { encoding: 'utf8' });
    return found.stdout
      .split('\n')
      .filter((line) => line.trim() && !line.includes('pgrep'))
      .map((line) => line.trim());
  }

  private tornDown = false;

  /** Stops whatever still runs: the happy path calls it from shutdown(), a crash from runChaos. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    this.witnessRunning = false;
    for (const app of this.apps) if (this.isAlive(app.child)) app.child.kill('SIGKILL');
    if (this.producer && this.isAlive(this.producer)) this.producer.kill('SIGKILL');
    await Promise.all(this.apps.map((app) => app.exited));
    this.admin?.disconnect();
    this.witness?.disconnect();
    await this.proxy?.close();
    await this.server?.stop();
  }

  private history(
    converged: boolean,
    leftovers: string[],
    groupEnd?: { pendingAtEnd: number | null; deadLetterIds: string[] },
  ): ChaosHistory {
    const o = this.options;
    const events: Record<string, ConsumerEvent[]> = Object.fromEntries(o.consumerNames.map((name) => [name, []]));
    const groupEvents: ConsumerEvent[] = [];
    const attempted: number[] = [];
    const acks: ProducerAck[] = [];
    for (const file of readdirSync(join(this.dir, 'logs')).filter((f) => f.endsWith('.jsonl'))) {
      for (const line of readJsonLines(join(this.dir, 'logs', file))) {
        if (file === 'producer.jsonl') {
          if (line.ev === 'attempt') attempted.push(Number(line.id));
          if (line.ev === 'ack')
            acks.push({
              payloadId: Number(line.id),
              kind: line.kind as 'queue' | 'delay',
              entryId: String(line.entry),
            });
          continue;
        }
        if (line.role !== 'consumer') continue;
        const app = this.apps.find((candidate) => candidate.proc === line.proc);
        if (app && app.name === o.group?.name) groupEvents.push(line as unknown as ConsumerEvent);
        else if (app) events[app.name].push(line as unknown as ConsumerEvent);
      }
    }
    for (const list of [...Object.values(events), groupEvents]) list.sort((a, b) => a.t - b.t);
    return {
      consumerNames: o.consumerNames,
      batchSize: o.batchSize,
      lockTtlMs: o.lockTtlMs,
      standbyPollMs: o.standbyPollMs,
      stream: this.witnessEntries,
      attemptedPayloadIds: attempted,
      acks,
      events,
      faults: this.faults,
      witnessViolations: this.witnessViolations,
      witnessSnapshots: this.snapshots,
      leftovers,
      converged,
      ...(o.group && {
        group: {
          name: o.group.name,
          events: groupEvents,
          poisonPayloadIds: this.poisonPayloadIds,
          deadLetterIds: groupEnd?.deadLetterIds ?? [],
          pendingAtEnd: groupEnd?.pendingAtEnd ?? null,
        },
      }),
    };
  }

  private async waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(100);
    }
    throw new Error(`chaos: timed out waiting until ${what}; see ${this.dir}/logs`);
  }
}

/** A flat Redis reply `[field, value, ...]` as an object. */
function fieldsOf(flat: unknown[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
  return fields;
}

function payloadIdOf(fields: string[]): number | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'payload') continue;
    try {
      const id = (JSON.parse(fields[i + 1]) as { id?: unknown }).id;
      return typeof id === 'number' ? id : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** The lines of a JSON-lines log; a last line cut off by kill -9 is ignored. */
function readJsonLines(file: string): Record<string, unknown>[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const parsed: Record<string, unknown>[] = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    try {
      parsed.push(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      if (index < lines.length - 1 && lines.slice(index + 1).some((rest) => rest.trim())) throw error;
    }
  });
  return parsed;
}

/** Whether `promise` settled within `ms`; leaves no timer behind. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The compiled library for the app processes: `dist/` when it is newer than every file of
 * `lib/`, or else a private build, so that a stale or half-rewritten `dist/` of another
 * build cannot decide the result.
 */
export function compiledLibrary(root: string, log: (line: string) => void): { dist: string; dispose: () => void } {
  const dist = join(root, 'dist');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  const distIndex = join(dist, 'index.js');
  if (existsSync(distIndex) && statSync(distIndex).mtimeMs >= newest(join(root, 'lib'))) {
    return { dist, dispose: () => undefined };
  }
  // Inside the checkout, so that the compiled copy resolves ioredis and Nest from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'redstream-chaos-dist-'));
  log(`dist/ is missing or older than lib/: compiling a private copy into ${out}`);
  spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  const scripts = join(root, 'lib', 'engine', 'scripts');
  mkdirSync(join(out, 'engine', 'scripts'), { recursive: true });
  for (const file of readdirSync(scripts).filter((name) => name.endsWith('.lua'))) {
    spawnSync('cp', [join(scripts, file), join(out, 'engine', 'scripts', file)]);
  }
  if (!existsSync(join(out, 'index.js'))) throw new Error(`compiling lib/ into ${out} failed`);
  return { dist: out, dispose: () => rmSync(out, { recursive: true, force: true }) };
}
