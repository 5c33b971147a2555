import { Presets, SingleBar } from 'cli-progress';

/** A progress display of a long operation; does nothing when disabled. */
export interface Progress {
  update(value: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A bar on stderr (stdout stays the command's output, `--json` included): drawn when stderr
 * is a terminal, or when `forced` is true (`--progress`, then one line every half second);
 * never with `forced` false (`--no-progress`).
 */
export function startProgress(label: string, total: number, forced: boolean | undefined): Progress {
  const enabled = forced ?? process.stderr.isTTY === true;
  if (!enabled || total <= 0) return NO_PROGRESS;
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 500,
      hideCursor: true,
      gracefulExit: true,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (value) => bar.update(Math.min(value, total)),
    stop: () => bar.stop(),
  };
}
