import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis-connection';
import { isRedisReplyError, scriptError } from './script-error';

/**
 * A Lua script from this folder, run with EVALSHA and loaded with EVAL when the server does
 * not know it yet (after a restart or a SCRIPT FLUSH). Works on single nodes and Cluster alike.
 * An error reply becomes a RedstreamScriptError (RedstreamPermissionError for ACL denials)
 * naming `operation`, the script line and the Redis command on it.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;
  private readonly commandsByLine: string[][];

  constructor(
    readonly name: string,
    /** What the script does, in the words of an error message: `offset commit`, `trim`... */
    readonly operation: string,
  ) {
    this.source = readFileSync(join(__dirname, `${name}.lua`), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
    this.commandsByLine = this.source
      .split('\n')
      .map((line) =>
        [...line.matchAll(/redis\.p?call\(\s*['"]([A-Za-z]+)['"]/g)].map((match) => match[1].toUpperCase()),
      );
  }

  /** The Redis commands the script calls on `line` (1-based, as in `@user_script:<line>`). */
  commandsAt(line: number): string[] {
    return this.commandsByLine[line - 1] ?? [];
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await this.send(client, keys, args);
    } catch (error) {
      throw isRedisReplyError(error) ? scriptError(this, error, keys) : error;
    }
  }

  private async send(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const scripts = {
  acquireLock: new LuaScript('acquire-lock', 'lock acquire'),
  refreshLock: new LuaScript('refresh-lock', 'lock refresh'),
  releaseLock: new LuaScript('release-lock', 'lock release'),
  wakeStandby: new LuaScript('wake-standby', 'standby wake-up (lock expired)'),
  commitOffset: new LuaScript('commit-offset', 'offset commit'),
  deliverDelayed: new LuaScript('deliver-delayed', 'delayer move (re-queueing due delay messages)'),
  serverTime: new LuaScript('server-time', 'server time read'),
  forgetIdleMembers: new LuaScript('forget-idle-members', 'forgetting idle group members'),
  leaveGroup: new LuaScript('leave-group', 'leaving a group'),
  deadLetterEntry: new LuaScript('dead-letter-entry', 'dead-lettering an entry'),
  replayDeadLetter: new LuaScript('replay-dead-letter', 'replaying a dead letter'),
  trimWithGroups: new LuaScript('trim-with-groups', 'trim'),
  streamPosition: new LuaScript('stream-position', 'stream position read (XINFO STREAM)'),
  countRange: new LuaScript('count-range', 'counting stream entries (XRANGE)'),
  rewindOffset: new LuaScript('rewind-offset', 'offset rewind'),
  heartbeatShardGroup: new LuaScript('heartbeat-shard-group', 'shard group heartbeat'),
};
