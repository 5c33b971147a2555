// Every text the `redstream` command prints about a failure, as a function of what it names.

export const cliMessages = {
  redisUnreachable: (url: string, reason: string, hint: string) => `cannot reach Redis at ${url}: ${reason} (${hint})`,
  redisFailed: (url: string, reason: string) => `Redis at ${url} failed: ${reason}`,
  consumerActive: (consumer: string, stream: string, owner: string, lockKey: string) =>
    `consumer ${consumer} of ${stream} is active: instance ${owner} holds its lock (${lockKey}). ` +
    `Stop it first, or pass --force (a running instance keeps its position in memory, and its next ` +
    `commit overwrites the rewind)`,
  forcedWhileActive: (owner: string) =>
    `warning: instance ${owner} holds the consumer's lock; it keeps reading from its own position and its ` +
    `next commit overwrites this offset unless it is restarted`,
  activeWhileForgotten: (owner: string) =>
    `warning: instance ${owner} holds the consumer's lock; it registers again the next time it becomes active`,
  invalidCount: (value: string) => `expected a positive integer, got ${JSON.stringify(value)}`,
  invalidId: (value: string) => `${JSON.stringify(value)} is not a Redis stream id (<ms>-<seq>)`,
  dropNeedsSelection: () => 'dead drop deletes dead letters for good: pass --ids <id...>, or --all to drop every one',
  idsAndAll: () => 'pass either --ids or --all, not both',
  invalidNodeAddress: (value: string) => `expected <host>:<port>, got ${JSON.stringify(value)}`,
  severalConnections: (given: readonly string[]) =>
    `pass only one of --redis, --cluster and --sentinel; got ${given.join(' and ')}`,
  sentinelWithoutMasterName: () =>
    '--sentinel needs --master-name <name>: the name the sentinels monitor the master under',
  sentinelOptionWithoutSentinel: (given: readonly string[]) =>
    `${given.join(' and ')} ${given.length > 1 ? 'go' : 'goes'} with --sentinel <host:port>`,
};
