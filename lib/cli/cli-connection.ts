import { InvalidArgumentError } from 'commander';
import { describeConnection } from '../engine/redis-connection';
import { DEFAULT_REDIS_URL } from '../engine/redstream-defaults';
import { CliUsageError } from './cli-errors';
import { cliMessages } from './cli.messages';

/** One `host:port` given to `--cluster` or `--sentinel`. */
export interface CliNodeAddress {
  host: string;
  port: number;
}

/** The connection options of the command line, as commander collects them. */
export interface CliConnectionOptions {
  redis?: string;
  cluster?: CliNodeAddress[];
  sentinel?: CliNodeAddress[];
  masterName?: string;
  sentinelPassword?: string;
}

/** Where the command connects: one Redis by URL, a Cluster by startup nodes, or a Sentinel master. */
export type CliConnectionTarget =
  | { kind: 'url'; url: string }
  | { kind: 'cluster'; nodes: CliNodeAddress[] }
  | { kind: 'sentinel'; sentinels: CliNodeAddress[]; masterName: string; sentinelPassword?: string };

/**
 * commander's parser of a repeatable `<host:port>` option: each occurrence adds one address.
 * A bracketed IPv6 host (`[::1]:7000`) is accepted, since a bare one has colons of its own.
 */
export function collectNodeAddress(value: string, previous: CliNodeAddress[] | undefined): CliNodeAddress[] {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d+)$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(cliMessages.invalidNodeAddress(value));
  }
  return [...(previous ?? []), { host: match[1] ?? match[2], port }];
}

/**
 * Which Redis the options name. At most one of `--redis`, `--cluster` and `--sentinel`: two
 * would leave the operator guessing which one a repair was made on. `REDIS_URL` is only the
 * default of `--redis`, so it never conflicts with the others.
 */
export function resolveConnectionTarget(options: CliConnectionOptions, env: NodeJS.ProcessEnv): CliConnectionTarget {
  const given = [
    options.redis !== undefined ? '--redis' : undefined,
    options.cluster !== undefined ? '--cluster' : undefined,
    options.sentinel !== undefined ? '--sentinel' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (given.length > 1) throw new CliUsageError(cliMessages.severalConnections(given));
  if (options.sentinel === undefined) {
    const sentinelOnly = [
      options.masterName !== undefined ? '--master-name' : undefined,
      options.sentinelPassword !== undefined ? '--sentinel-password' : undefined,
    ].filter((name): name is string => name !== undefined);
    if (sentinelOnly.length > 0) throw new CliUsageError(cliMessages.sentinelOptionWithoutSentinel(sentinelOnly));
  }
  if (options.cluster !== undefined) return { kind: 'cluster', nodes: options.cluster };
  if (options.sentinel !== undefined) {
    if (options.masterName === undefined || options.masterName === '') {
      throw new CliUsageError(cliMessages.sentinelWithoutMasterName());
    }
    return {
      kind: 'sentinel',
      sentinels: options.sentinel,
      masterName: options.masterName,
      sentinelPassword: options.sentinelPassword,
    };
  }
  return { kind: 'url', url: options.redis ?? env.REDIS_URL ?? DEFAULT_REDIS_URL };
}

/** The target for messages, without any password. */
export function describeConnectionTarget(target: CliConnectionTarget): string {
  switch (target.kind) {
    case 'url':
      return describeConnection(target.url);
    case 'cluster':
      return `Cluster nodes ${target.nodes.map(formatAddress).join(', ')}`;
    case 'sentinel':
      return describeConnection({ sentinels: target.sentinels, name: target.masterName });
  }
}

/** What an operator should check when the target cannot be reached. */
export function connectionHint(target: CliConnectionTarget): string {
  switch (target.kind) {
    case 'url':
      return 'set --redis <url> or REDIS_URL';
    case 'cluster':
      return 'check the --cluster nodes';
    case 'sentinel':
      return 'check --sentinel and --master-name';
  }
}

function formatAddress({ host, port }: CliNodeAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
