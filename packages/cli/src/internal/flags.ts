import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CommandIo } from '../command.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** GNU long flags, strict: an unknown flag or a missing value is a `UsageError` (exit code 2). */
export function parseFlags<O extends Options>(argv: readonly string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--brokers`, else `KAFKA_BOOTSTRAP_SERVERS`, else a `UsageError` that names both. */
export function brokersOf(flag: string | undefined, io: CommandIo): string {
  const servers = flag ?? io.env.KAFKA_BOOTSTRAP_SERVERS;
  if (!servers) throw new UsageError('no broker: pass --brokers host:port or set KAFKA_BOOTSTRAP_SERVERS');
  return servers;
}

/** A flag that must be an integer >= `min`. */
export function integerFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`Expected \`--${name}\` to be an integer >= ${min}, got \`${value}\``);
  }
  return n;
}

/** Exactly `count` positionals named `names`, else a `UsageError`. */
export function positionals(given: readonly string[], names: readonly string[]): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names.slice(given.length).map((n) => `<${n}>`).join(' ')}`);
  if (given.length > names.length) throw new UsageError(`unexpected argument \`${given[names.length]}\``);
  return [...given];
}

/** Writes a line, waiting when the stream is full (so `| head` and slow terminals apply backpressure). */
export async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}
