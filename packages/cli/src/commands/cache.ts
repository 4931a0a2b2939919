import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Cache } from '@snoopy/cache';
import type { Command, CommandIo } from '../command.js';
import { UsageError } from '../command.js';
import { codecOf } from '../internal/codec.js';
import { CliError } from '../errors.js';
import { integerFlag, parseFlags, writeLine } from '../internal/flags.js';

const usage = `Usage: snoopy cache <path> get <key> [--number]
       snoopy cache <path> scan [--prefix p] [--gte k] [--lt k] [--reverse] [--limit N] [--keys]
       snoopy cache <path> stats

Reads a snoopy Cache (a LevelDB directory) without changing it. The directory must not be open in
another process (LevelDB's lock): stop the worker first, or copy the directory.

  get <key>    prints the value as JSON; exit code 1 when the key has no value
  scan         prints one JSON object a line, {"key":...,"value":...}, in key order
  stats        entries, bytes on disk

Options:
  --namespace <name>   a namespace of the cache (default: the root keyspace)
  --codec <codec>      how values were written: json (default), string, bytes, avro:<schema>
  --number             get/scan bounds: the key is a number (123 and "123" are different keys)
  --prefix, --gte, --gt, --lt, --lte <key>   scan: key range
  --reverse            scan: from the last key down
  --limit <N>          scan: at most N entries
  --keys               scan: print only the keys`;

const flags = {
  namespace: { type: 'string' },
  codec: { type: 'string' },
  number: { type: 'boolean' },
  prefix: { type: 'string' },
  gte: { type: 'string' },
  gt: { type: 'string' },
  lt: { type: 'string' },
  lte: { type: 'string' },
  reverse: { type: 'boolean' },
  limit: { type: 'string' },
  keys: { type: 'boolean' },
} as const;

function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const info = statSync(path);
    total += info.isDirectory() ? diskBytes(path) : info.size;
  }
  return total;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)) ?? 'undefined';
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [path, action, ...rest] = given;
  if (path === undefined) throw new UsageError('missing <path>');
  if (action === undefined) throw new UsageError('missing action: get, scan or stats');
  if (!['get', 'scan', 'stats'].includes(action)) throw new UsageError(`unknown action \`${action}\` (get, scan, stats)`);
  if (action === 'get' && rest.length !== 1) throw new UsageError(rest.length === 0 ? 'missing <key>' : `unexpected argument \`${rest[1]}\``);
  if (action !== 'get' && rest.length > 0) throw new UsageError(`unexpected argument \`${rest[0]}\``);
  const limit = integerFlag('limit', values.limit, 1);
  const keyOf = (text: string): string | number => {
    if (!values.number) return text;
    const n = Number(text);
    if (text.trim() === '' || Number.isNaN(n)) throw new UsageError(`--number: \`${text}\` is not a number`);
    return n;
  };
  const codec = codecOf(values.codec);
  if (!existsSync(join(path, 'CURRENT'))) throw new CliError('SNOOPY_CLI_INPUT', `No cache at ${path} (no LevelDB CURRENT file)`);

  const root = await Cache.open<unknown, string | number>(path, { codec, sweepInterval: 0 });
  try {
    const cache = values.namespace === undefined ? root : root.namespace<unknown, string | number>(values.namespace, { codec });
    if (action === 'get') {
      const value = cache.get(keyOf(rest[0]!));
      if (value === undefined) {
        await writeLine(io.stderr, `snoopy cache: no value for key ${JSON.stringify(rest[0])}`);
        return 1;
      }
      await writeLine(io.stdout, show(value));
      return 0;
    }
    if (action === 'scan') {
      const range = {
        ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
        ...(values.gte !== undefined ? { gte: keyOf(values.gte) } : {}),
        ...(values.gt !== undefined ? { gt: keyOf(values.gt) } : {}),
        ...(values.lt !== undefined ? { lt: keyOf(values.lt) } : {}),
        ...(values.lte !== undefined ? { lte: keyOf(values.lte) } : {}),
        ...(values.reverse ? { reverse: true } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
      for await (const [key, value] of cache.entries(range as never)) {
        if (io.signal.aborted) break;
        await writeLine(io.stdout, values.keys ? show(key) : show({ key, value }));
      }
      return 0;
    }
    let entries = 0;
    for await (const _key of cache.keys()) entries += 1;
    await writeLine(io.stdout, show({ path, namespace: values.namespace ?? '', entries, diskBytes: diskBytes(path) }));
    return 0;
  } finally {
    await root.close();
  }
}

export const cache: Command = { name: 'cache', summary: 'Inspect a Cache directory: get, scan, stats', usage, run };
