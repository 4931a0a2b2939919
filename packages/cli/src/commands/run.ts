import { flagName, loadDataSource, paramFlags, paramsFromFlags, paramsUsage, runDataSource, type DataSourceClass } from '@snoopy/connect';
import type { Command, CommandIo } from '../command.js';
import { UsageError } from '../command.js';
import { parseFlags } from '../internal/flags.js';

const usage = `Usage: snoopy run <module> [--<param> <value> ...] [--to <file> | --to topic:<name>]

Runs a data source once: <module> is a JavaScript module whose default export is a class extending
DataSource from @snoopy/connect. Its declared parameters become flags (\`apiKey\` -> \`--api-key\`);
\`snoopy run <module> --help\` lists them. Items are written as NDJSON to stdout; a progress bar goes
to stderr when it is a terminal. SIGINT/SIGTERM stop reading, finish and flush what was read, close.
Exit code 0 when the source was read to its end, 1 when it failed or was stopped, 2 for a bad
command line (a missing or wrong parameter included).

Options:
  --to <target>   - (stdout, default), a file path (NDJSON), or topic:<name> (Kafka, with
                  bootstrap servers from $KAFKA_BOOTSTRAP_SERVERS)`;

async function load(path: string | undefined): Promise<DataSourceClass> {
  if (path === undefined || path.startsWith('-')) throw new UsageError('missing <module>');
  try {
    return await loadDataSource(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'SNOOPY_CONNECT_MODULE') throw new UsageError((error as Error).message);
    throw error;
  }
}

function flagsOf(Source: DataSourceClass): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const flags = paramFlags(Source.params);
  if (Object.hasOwn(flags, 'to')) throw new UsageError(`${Source.name} declares a parameter \`to\`, which clashes with --to`);
  return { ...flags, to: { type: 'string' } };
}

async function help(argv: readonly string[]): Promise<string> {
  const path = argv.find((a) => !a.startsWith('-'));
  if (path === undefined) return usage;
  const Source = await load(path);
  return `${usage}\n\nParameters of ${Source.name} (${path}):\n${paramsUsage(Source.params)}`;
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const [path, ...rest] = argv;
  const Source = await load(path);
  const { values, positionals } = parseFlags(rest, flagsOf(Source));
  if (positionals.length > 0) throw new UsageError(`unexpected argument \`${positionals[0]}\``);
  const params = paramsFromFlags(Source.params, values);
  const to = values.to as string | undefined;
  try {
    const { summary } = await runDataSource(Source, {
      params,
      ...(to === undefined ? {} : { to }),
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      env: io.env,
    });
    if (summary.reason !== 'end') {
      io.stderr.write(`snoopy run: ${Source.name} stopped after ${summary.in} items (${summary.reason})\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SNOOPY_CONNECT_PARAM') throw new UsageError(`${(error as Error).message} (--${flagName((error as { param: string }).param)})`);
    if (code === 'SNOOPY_OPTIONS_INVALID') throw new UsageError((error as Error).message);
    io.stderr.write(`snoopy run: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export const runCommand: Command = { name: 'run', summary: 'Run a data source (a DataSource module) into NDJSON or a topic', usage, run, help };
