import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RedstreamConfigError } from '../engine/errors';
import { parseRewindTarget, RewindTarget } from '../engine/offset-rewind';
import {
  CommandContext,
  deadDropCommand,
  deadListCommand,
  deadReplayCommand,
  forgetCommand,
  lagCommand,
  peekCommand,
  rewindCommand,
  statusCommand,
  trimCommand,
} from './cli-commands';
import { CliOperationalError, CliUsageError, EXIT_OK, EXIT_OPERATIONAL_ERROR, EXIT_USAGE_ERROR } from './cli-errors';
import { collectNodeAddress, describeConnectionTarget, resolveConnectionTarget } from './cli-connection';
import { CliSession, GlobalOptions, reasonOf } from './cli-session';
import { cliMessages } from './cli.messages';

/** Where the command reads its environment and writes: the process's, unless a test says otherwise. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const PROCESS_IO: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(cliMessages.invalidCount(value));
  }
  return parsed;
}

/** `--to` of `rewind`, read by the engine as the dashboard's `to` is; a bad one is a usage error. */
function rewindTarget(value: string): RewindTarget {
  try {
    return parseRewindTarget(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/**
 * Runs the `redstream` command with `argv` (without `node` and the script) and returns its
 * exit code: 0 done, 1 the operation failed (message on stderr, no stack), 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE_ERROR;
    const usage = error instanceof CliUsageError || error instanceof RedstreamConfigError;
    const message =
      usage || error instanceof CliOperationalError
        ? (error as Error).message
        : describeFailure(error, program, io.env);
    io.stderr(`redstream: ${message}\n`);
    if (usage) io.stderr(`Run 'redstream --help' for usage.\n`);
    return usage ? EXIT_USAGE_ERROR : EXIT_OPERATIONAL_ERROR;
  }
}

/** An unexpected failure (a Redis error mid-command): its message, with the Redis URL, nodes or master. */
function describeFailure(error: unknown, program: Command, env: NodeJS.ProcessEnv): string {
  // The session opened on these options, so they resolve; the fallback only keeps a bug from
  // turning into an unhandled rejection.
  let shown: string;
  try {
    shown = describeConnectionTarget(resolveConnectionTarget(program.opts<GlobalOptions>(), env));
  } catch {
    shown = 'Redis';
  }
  return cliMessages.redisFailed(shown, reasonOf(error));
}

function buildProgram(io: CliIo): Command {
  const program = new Command('redstream')
    .description('Inspect and operate the Redis streams of @redstream/nestjs (and the redstream gem).')
    .option('--redis <url>', 'Redis URL, redis:// or rediss:// (default: $REDIS_URL, else redis://127.0.0.1:6379)')
    .addOption(
      new Option(
        '--cluster <host:port>',
        'a Redis Cluster startup node (repeat for more); instead of --redis',
      ).argParser(collectNodeAddress),
    )
    .addOption(
      new Option('--sentinel <host:port>', 'a Redis Sentinel (repeat for more), with --master-name').argParser(
        collectNodeAddress,
      ),
    )
    .option('--master-name <name>', 'the master the sentinels monitor (with --sentinel)')
    .option('--sentinel-password <password>', "the sentinels' password, when they require one (with --sentinel)")
    .option('--namespace <ns>', 'the namespace the application configured (keys <ns>:redstream:...)')
    .option('--json', 'machine-readable output on stdout')
    .option('--progress', 'draw progress bars on stderr even when it is not a terminal')
    .option('--no-progress', 'never draw progress bars (default: only when stderr is a terminal)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  /** Wraps a command's action: opens the session, runs, prints, closes. */
  const action =
    <TArgs extends unknown[]>(run: (context: CommandContext, ...args: TArgs) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const options = command.optsWithGlobals<GlobalOptions>();
      const session = await CliSession.open(options, io.env);
      try {
        const out = {
          text: (text: string) => {
            if (!options.json) io.stdout(`${text}\n`);
          },
          json: (value: unknown) => {
            if (options.json) io.stdout(`${JSON.stringify(value, null, 2)}\n`);
          },
          warn: (text: string) => io.stderr(`${text}\n`),
        };
        await run({ session, options, out }, ...(args.slice(0, -1) as TArgs));
      } finally {
        await session.close();
      }
    };

  program
    .command('status')
    .description('streams, their consumers (active owner, offset, lag) and groups, delay backlog, dead letters')
    .argument('[streams...]', 'only these streams (default: every stream of the namespace)')
    .action(action((context, streams: string[]) => statusCommand(context, streams)));

  program
    .command('lag')
    .description("every reader's lag: entries waiting and the oldest one's age")
    .argument('[stream]', 'only this stream')
    .action(action((context, stream: string | undefined) => lagCommand(context, stream)));

  program
    .command('peek')
    .description("a stream's entries, oldest first")
    .argument('<stream>')
    .option('--count <n>', 'how many', positiveInteger, 10)
    .option('--from <id>', 'the first id (inclusive)')
    .action(
      action((context, stream: string, options: { count: number; from?: string }) =>
        peekCommand(context, stream, options),
      ),
    );

  program
    .command('rewind')
    .description("set a consumer's committed offset so that it reads from --to on")
    .argument('<stream>')
    .argument('<consumer>')
    .requiredOption(
      '--to <target>',
      '"start", "end" (skip everything), a stream id or an ISO 8601 time: the first entry to read again',
      rewindTarget,
    )
    .option('--force', 'even while an instance holds the consumer lock')
    .action(
      action(
        (
          context,
          stream: string,
          consumer: string,
          options: { to: ReturnType<typeof parseRewindTarget>; force?: boolean },
        ) => rewindCommand(context, stream, consumer, { to: options.to, force: options.force === true }),
      ),
    );

  program
    .command('forget')
    .description("remove a consumer from the stream's registry, so that the trimmer stops waiting for it")
    .argument('<stream>')
    .argument('<consumer>')
    .action(action((context, stream: string, consumer: string) => forgetCommand(context, stream, consumer)));

  program
    .command('trim')
    .description('delete what every reader is done with, once, as the Trimmer does')
    .argument('<stream>')
    .option('--dry-run', 'only tell what would be deleted: count and id range')
    .option('--consumer <names...>', 'consumers to wait for besides the registered ones')
    .option('--group <names...>', 'groups to wait for besides the existing ones')
    .action(
      action((context, stream: string, options: { dryRun?: boolean; consumer?: string[]; group?: string[] }) =>
        trimCommand(context, stream, {
          dryRun: options.dryRun === true,
          consumers: options.consumer,
          groups: options.group,
        }),
      ),
    );

  const dead = program.command('dead').description('the dead letters of a stream (<stream>.dead)');
  dead
    .command('list')
    .description('dead letters, oldest first')
    .argument('<stream>')
    .option('--count <n>', 'how many', positiveInteger, 100)
    .option('--from <id>', 'the first dead-letter id (inclusive)')
    .action(
      action((context, stream: string, options: { count: number; from?: string }) =>
        deadListCommand(context, stream, options),
      ),
    );
  dead
    .command('replay')
    .description('write dead letters back onto the stream (all, or --ids), each deleted as it is written')
    .argument('<stream>')
    .option('--ids <ids...>', 'dead-letter ids (default: every dead letter there is now)')
    .action(
      action((context, stream: string, options: { ids?: string[] }) => deadReplayCommand(context, stream, options.ids)),
    );
  dead
    .command('drop')
    .description('delete dead letters for good')
    .argument('<stream>')
    .option('--ids <ids...>', 'dead-letter ids')
    .option('--all', 'every dead letter of the stream')
    .action(
      action((context, stream: string, options: { ids?: string[]; all?: boolean }) =>
        deadDropCommand(context, stream, { ids: options.ids, all: options.all === true }),
      ),
    );

  return program;
}
