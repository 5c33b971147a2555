import { RedstreamPermissionError, RedstreamScriptError, RedstreamScriptFailure } from '../errors';

/** What the translation needs to know about the script that failed. */
export interface FailedScript {
  readonly name: string;
  readonly operation: string;
  /** The Redis commands called on a line of the script's source (1-based). */
  commandsAt(line: number): string[];
}

/**
 * Whether Redis answered with an error (as opposed to a connection that failed): only such
 * replies are about the script, and only they are translated.
 */
export function isRedisReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Turns an error reply to EVALSHA/EVAL into a typed error that names the operation, the script
 * line and its command, and for ACL denials the rule to add. Redis 7 ends a script error with
 * `script: <sha>, on @user_script:<line>.` (Redis 6: `@user_script: <line>:`), but does not say
 * which command an ACL denial was about: the line tells it, as every script calls at most one
 * Redis command per line (a test holds them to that).
 */
export function scriptError(script: FailedScript, cause: Error, keys: readonly string[]): RedstreamScriptError {
  const reply = cause.message;
  const lineMatch = /@user_script:\s*(\d+)/.exec(reply);
  const line = lineMatch ? Number(lineMatch[1]) : undefined;
  const onLine = line === undefined ? [] : script.commandsAt(line);
  // A denial of EVALSHA or EVAL itself names the command, outside any script line.
  const deniedByName = /permissions to run the '([^']+)' command/i.exec(reply)?.[1]?.toUpperCase();
  const command = deniedByName ?? (onLine.length === 1 ? onLine[0] : undefined);
  const failure = failureOf(reply);
  const where = `${script.name}.lua${line === undefined ? '' : ` line ${line}`}${command ? `, ${command}` : ''}`;
  const prefix = `${script.operation} failed (${where})`;
  const options = { cause };

  if (failure === 'acl-command') {
    const rule = command ? `+${command.toLowerCase()}` : undefined;
    const fix = rule
      ? `the Redis ACL user may not run ${command}; add ${rule} to its ACL line`
      : `the Redis ACL user may not run a command of this script; see ACL.md for the commands to allow`;
    return new RedstreamPermissionError(
      `${prefix}: ${fix}. Redis replied: ${reply}`,
      script.operation,
      script.name,
      failure,
      line,
      command,
      rule,
      options,
    );
  }
  if (failure === 'acl-key') {
    const rule = keyPatternFor(keys);
    return new RedstreamPermissionError(
      `${prefix}: the Redis ACL user may not access the keys ${keys.join(', ')}; add ${rule} to its ACL line. ` +
        `Redis replied: ${reply}`,
      script.operation,
      script.name,
      failure,
      line,
      command,
      rule,
      options,
    );
  }
  const explanation =
    failure === 'out-of-memory'
      ? 'Redis is out of memory (used memory above maxmemory, and the policy evicts nothing); free memory or raise maxmemory. '
      : failure === 'read-only'
        ? 'the server is a read-only replica; connect to the primary. '
        : '';
  return new RedstreamScriptError(
    `${prefix}: ${explanation}Redis replied: ${reply}`,
    script.operation,
    script.name,
    failure,
    line,
    command,
    options,
  );
}

function failureOf(reply: string): RedstreamScriptFailure {
  if (/can't run this command|permissions to run/i.test(reply)) return 'acl-command';
  if (/can't access at least one of the keys|permissions to access .*key/i.test(reply)) return 'acl-key';
  if (reply.startsWith('OOM ')) return 'out-of-memory';
  if (reply.startsWith('READONLY ')) return 'read-only';
  return 'other';
}

/** The key pattern of the namespace the keys are in, e.g. `~app:redstream:*`. */
function keyPatternFor(keys: readonly string[]): string {
  const key = keys[0] ?? '';
  const at = key.indexOf('redstream:');
  return at === -1 ? `~${key}` : `~${key.slice(0, at + 'redstream:'.length)}*`;
}
