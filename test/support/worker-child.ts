import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the child fixture (test/engine/fixtures/worker-child.ts) runs. */
export interface WorkerChildConfig {
  redisUrl: string;
  namespace: string;
  /** `group`: `instances` GroupConsumers of `group` in the child. */
  /** `shards`: a consumer per shard of `redstreamShards(stream, shards)`, balanced (see shard-handler.ts). */
  role: 'consumer' | 'delayer' | 'group' | 'shards';
  stream: string;
  /** Consumer name (role consumer). */
  name?: string;
  /** Consumer group (role group). */
  group?: string;
  /** GroupConsumers started in the child (role group). Default 1. */
  instances?: number;
  claimIdleMs?: number;
  claimIntervalMs?: number;
  backoffMaxMs?: number;
  /** Shard count (role shards). */
  shards?: number;
  /** Key prefix of the recording shard handler (role shards). */
  shardPrefix?: string;
  /** Delay in ms (role delayer). */
  delayMs?: number;
  batchSize?: number;
  blockMs?: number;
  lockTtlMs?: number;
  lockRefreshMs?: number;
  standbyPollMs?: number;
  /** The consumer's handler RPUSHes every message id to this list before it resolves. */
  handledList?: string;
  /** How long the consumer's handler (the delayer's onDue) takes, after reporting `handling`. */
  handlerMs?: number;
}

/** A line the child prints: a worker event, or `ready` once its worker was started. */
export interface WorkerChildEvent {
  type: 'ready' | 'active' | 'standby' | 'committed' | 'handling' | 'failed' | 'acked' | 'claimed';
  /** The shard stream that reported it (role shards). */
  stream?: string;
  /** The group member that reported it (role group). */
  member?: string;
  offset?: string;
  count?: number;
  ids?: string[];
  reason?: string;
  /** `performance.timeOrigin + performance.now()` in the child when the event happened. */
  at: number;
}

export interface WorkerChild {
  readonly process: ChildProcess;
  readonly events: WorkerChildEvent[];
  /** Resolves with the first event (already seen or still to come) matching `predicate`. */
  waitForEvent(predicate: (event: WorkerChildEvent) => boolean, timeoutMs?: number): Promise<WorkerChildEvent>;
  /** Sends `signal`; resolves when the process exited (SIGKILL, SIGTERM). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly stderr: () => string;
}

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'engine', 'fixtures', 'worker-child.ts');
const REGISTER = join(ROOT, 'test', 'support', 'ts-register.js');

/**
 * Runs a Consumer, Delayer or GroupConsumers in a separate Node process, so a test can SIGKILL or SIGSTOP
 * it like a crashed or frozen host. The child runs the TypeScript sources of lib/ directly, and
 * transpiling them on a loaded 2-core machine alone can take tens of seconds: the waits are
 * generous, and end as soon as the event arrives.
 */
export async function spawnWorkerChild(config: WorkerChildConfig, readyTimeoutMs = 60_000): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--require', REGISTER, FIXTURE], {
    env: { ...process.env, REDSTREAM_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: WorkerChildEvent[] = [];
  const listeners = new Set<(event: WorkerChildEvent) => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const event = JSON.parse(line) as WorkerChildEvent;
    events.push(event);
    for (const listener of listeners) listener(event);
  });

  const handle: WorkerChild = {
    process: child,
    events,
    stderr: () => stderr,
    waitForEvent: (predicate, timeoutMs = 20_000) => {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`child event not seen within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const listener = (event: WorkerChildEvent): void => {
          if (!predicate(event)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(event);
        };
        listeners.add(listener);
        void exited.then(() => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          reject(new Error(`child exited before the event; stderr: ${stderr.slice(-2000)}`));
        });
      });
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
  await handle.waitForEvent((event) => event.type === 'ready', readyTimeoutMs);
  return handle;
}
