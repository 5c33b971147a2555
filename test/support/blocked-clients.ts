import type Redis from 'ioredis';
import { waitFor } from './test-redis';

/** One connection as `CLIENT LIST` describes it (the fields the tests need). */
export interface ClientListEntry {
  /** Redis hands out ids in increasing order: a later connection has a higher id. */
  id: number;
  /** `b` while the client waits in a blocking command. */
  flags: string;
  /** The last command the client sent, lower case (`brpop`, `xread`). */
  cmd: string;
}

export async function listClients(redis: Redis): Promise<ClientListEntry[]> {
  const listing = String(await redis.call('CLIENT', 'LIST'));
  return listing
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = new Map(line.split(' ').map((pair) => pair.split('=', 2) as [string, string]));
      return { id: Number(fields.get('id')), flags: fields.get('flags') ?? '', cmd: fields.get('cmd') ?? '' };
    });
}

/** The highest id of the connections open now: pass it as `newerThan` to ignore them. */
export async function newestClientId(redis: Redis): Promise<number> {
  return Math.max(0, ...(await listClients(redis)).map((client) => client.id));
}

/**
 * Waits until a connection is blocked in `command` (e.g. a standby's BRPOP on the notify
 * list), optionally only one opened after `newerThan` (from {@link newestClientId}).
 */
export function waitForBlockedClient(
  redis: Redis,
  command: string,
  { newerThan = 0, timeoutMs = 10_000 }: { newerThan?: number; timeoutMs?: number } = {},
): Promise<ClientListEntry> {
  const wanted = command.toLowerCase();
  return waitFor(async () => {
    const clients = await listClients(redis);
    return clients.find((client) => client.id > newerThan && client.cmd === wanted && client.flags.includes('b'));
  }, timeoutMs);
}
