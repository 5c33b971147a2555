import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis-connection';

/**
 * A Lua script from this folder, run with EVALSHA and loaded with EVAL when the server does
 * not know it yet (after a restart or a SCRIPT FLUSH). Works on single nodes and Cluster alike.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(readonly name: string) {
    this.source = readFileSync(join(__dirname, `${name}.lua`), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const scripts = {
  acquireLock: new LuaScript('acquire-lock'),
  refreshLock: new LuaScript('refresh-lock'),
  releaseLock: new LuaScript('release-lock'),
  commitOffset: new LuaScript('commit-offset'),
  deliverDelayed: new LuaScript('deliver-delayed'),
  trimCommitted: new LuaScript('trim-committed'),
  serverTime: new LuaScript('server-time'),
  forgetIdleMembers: new LuaScript('forget-idle-members'),
  leaveGroup: new LuaScript('leave-group'),
  deadLetterEntry: new LuaScript('dead-letter-entry'),
  replayDeadLetter: new LuaScript('replay-dead-letter'),
  trimWithGroups: new LuaScript('trim-with-groups'),
};
