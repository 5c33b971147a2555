// A fresh NestJS 11 application (CommonJS, what the Nest 11 starter compiles to), run by Node's
// own loader against the packed library installed next to it in .nest11/.
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { assertBootsConsumesAndStops, assertOneNestjs } from './support/fresh-app-helpers';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

const appRequire = createRequire(__filename);

describe('a CommonJS application on NestJS 11', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('loads the packed library, and it shares NestJS 11, rxjs and reflect-metadata with the app', () => {
    assertOneNestjs(appRequire.resolve, { major: 11 });
  });

  it('boots; the decorated consumer receives what the injected Producer queued, and stops with the app', async () => {
    await assertBootsConsumesAndStops(redis.url, 'nest11');
  });
});
