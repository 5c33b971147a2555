import { join } from 'node:path';
import { runFixtureUntilExit } from '../support/exit-promptness';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

describe('closing a RedstreamServer microservice and a RedstreamClient', () => {
  it('leaves nothing that keeps the process alive', async () => {
    const { code, stdout, stderr, livedOnMs } = await runFixtureUntilExit(
      join(__dirname, 'fixtures', 'close-child.ts'),
      {
        REDSTREAM_CLOSE_CHILD_URL: testRedisUrl(),
        REDSTREAM_CLOSE_CHILD_NAMESPACE: uniqueNamespace('close'),
      },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ handled: [0, 1, 2] });
    // Node exits as soon as nothing is left; a forgotten connection keeps it alive for ever, a
    // Delayer nap not cut short by the stop for up to its 10 s lock ttl.
    expect(livedOnMs).toBeLessThan(2_000);
  }, 60_000);
});
