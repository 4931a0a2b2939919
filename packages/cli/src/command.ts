/**
 * The shape of one `snoopy` subcommand. Each feature package exports the function behind its
 * subcommand; a file in `commands/` turns argv into a call of it. One flag style (GNU long flags
 * through `node:util` parseArgs), one `--help`, one exit-code convention:
 * 0 success, 1 the work failed, 2 the command line was wrong (a `UsageError`).
 */
export interface Command {
  /** The word after `snoopy`. */
  readonly name: string;
  /** One line for `snoopy --help`. */
  readonly summary: string;
  /** The whole `snoopy <name> --help` text. */
  readonly usage: string;
  /** Runs the command; resolves with the exit code. Throw a `UsageError` for a bad command line. */
  run(argv: readonly string[], io: CommandIo): Promise<number>;
  /** The `--help` text when it depends on the arguments (`snoopy run <module> --help`). @default usage */
  help?(argv: readonly string[]): Promise<string>;
}

export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

/** A command line that cannot be run: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
