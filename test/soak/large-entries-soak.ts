// `npm run soak:large`: the full sizes of issue 14's probes, against a redis-server of its own.
// 1. A consumer on 1000 entries of 2 MB (lockTtlMs 5000): every entry handled once, in order,
//    no lock lost; prints the peak RSS growth, the largest batch and the longest event-loop
//    block. 2. A Delayer on 1000 due delay entries of 0.6 MB: all re-queued, onDue saw them all,
//    the process did not crash. Options: --consumer-entries N --consumer-mb N --delay-entries N
//    --delay-mb N. Exits non-zero on a failed check. (jest runs scaled versions of both:
//    test/engine/large-entries.spec.ts.)
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { Redstream, RedstreamLogger } from '../../lib/engine';
import { startRedisServer } from '../support/redis-server';

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};

const MB = 1024 * 1024;
const failures: string[] = [];
const check = (ok: boolean, what: string): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const warnings: string[] = [];
const logger: RedstreamLogger = {
  log: () => undefined,
  warn: (message) => warnings.push(message),
  error: (message) => warnings.push(message),
};

async function fill(admin: Redis, key: string, count: number, bytes: number): Promise<void> {
  const blob = 'x'.repeat(bytes);
  for (let i = 0; i < count; i += 20) {
    const pipeline = admin.pipeline();
    for (let j = i; j < Math.min(count, i + 20); j++) pipeline.xadd(key, '*', 'payload', `{"n":${j},"blob":"${blob}"}`);
    await pipeline.exec();
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function main(): Promise<void> {
  const server = await startRedisServer({ args: ['--maxmemory', '0'] });
  const admin = new Redis(server.url);
  const redstream = new Redstream({ redis: server.url, namespace: 'soak', logger });
  try {
    const consumerEntries = argument('consumer-entries', 1000);
    const consumerBytes = argument('consumer-mb', 2) * MB;
    console.log(`consumer: writing ${consumerEntries} entries of ${consumerBytes / MB} MB...`);
    await fill(admin, 'soak:redstream:stream:big', consumerEntries, consumerBytes);
    global.gc?.();
    const handled: number[] = [];
    let largestBatch = 0;
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const consumer = redstream.consumer<{ n: number }>({
      stream: 'big',
      name: 'soak',
      handler: (messages) => {
        largestBatch = Math.max(largestBatch, messages.length);
        for (const message of messages) handled.push(message.payload.n);
      },
    });
    let standbys = 0;
    consumer.on('standby', () => standbys++);
    const startedAt = performance.now();
    consumer.start();
    const done = await waitUntil(() => handled.length >= consumerEntries, 600_000);
    const seconds = (performance.now() - startedAt) / 1000;
    delay.disable();
    clearInterval(rssTimer);
    await consumer.stop();
    console.log(
      `consumer: handled ${handled.length} in ${seconds.toFixed(1)} s, largest batch ${largestBatch}, ` +
        `RSS ${(baseRss / MB).toFixed(0)} MB before, peak ${(peakRss / MB).toFixed(0)} MB, ` +
        `longest event-loop block ${(delay.max / 1e6).toFixed(0)} ms`,
    );
    check(done && handled.length === consumerEntries, `every entry handled (${handled.length}/${consumerEntries})`);
    check(
      handled.every((n, i) => n === i),
      'in order, none twice',
    );
    check(standbys === 0, `no lock lost (${standbys} standbys)`);
    check(delay.max / 1e6 < 5_000, 'no event-loop block as long as lockTtlMs');
    await admin.del('soak:redstream:stream:big');

    const delayEntries = argument('delay-entries', 1000);
    const delayBytes = argument('delay-mb', 0.6) * MB;
    console.log(`delayer: writing ${delayEntries} delay entries of ${delayBytes / MB} MB...`);
    await fill(admin, 'soak:redstream:stream:late.delay', delayEntries, delayBytes);
    let due = 0;
    const delayer = redstream.delayer({ stream: 'late', delay: 1, onDue: (messages) => (due += messages.length) });
    const delayStartedAt = performance.now();
    delayer.start();
    const moved = await waitUntil(
      async () => (await admin.xlen('soak:redstream:stream:late')) === delayEntries,
      600_000,
    );
    await delayer.stop();
    console.log(
      `delayer: re-queued ${await admin.xlen('soak:redstream:stream:late')} in ` +
        `${((performance.now() - delayStartedAt) / 1000).toFixed(1)} s; onDue saw ${due}`,
    );
    check(moved, 'every delay entry re-queued');
    check((await admin.xlen('soak:redstream:stream:late.delay')) === 0, 'the delay stream is empty');
    check(due === delayEntries, `onDue saw every message (${due})`);
  } finally {
    await redstream.close();
    await admin.quit();
    await server.stop();
  }
  if (warnings.length > 0)
    console.log(`log warnings/errors (${warnings.length}):\n  ${warnings.slice(0, 10).join('\n  ')}`);
  if (failures.length > 0) {
    console.log(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall checks passed');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
