import { createInterface } from 'node:readline';
import { StringCodec } from '@snoopy/codecs';
import { Topic } from '@snoopy/kafka';
import type { Command, CommandIo } from '../command.js';
import { CliError } from '../errors.js';
import { brokersOf, integerFlag, parseFlags, positionals, writeLine } from '../internal/flags.js';

const usage = `Usage: snoopy produce <topic> [--key-field <field>] [--brokers host:port] < messages.ndjson

Sends each line of standard input (one JSON value a line, NDJSON) to <topic> as a JSON message,
and exits once every message is confirmed by its delivery report. Blank lines are skipped. A line
that is not JSON stops it (exit code 1) after the lines before it are delivered.

Options:
  --brokers <list>       bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)
  --key-field <field>    use this field of each object as the message key
  --string               send each line as it is (a string message) instead of parsing JSON
  --in-flight <N>        messages sent but not yet confirmed, at most (default 10000)
  --timeout <ms>         how long to wait for the brokers (default 10000)`;

const flags = {
  brokers: { type: 'string' },
  'key-field': { type: 'string' },
  string: { type: 'boolean' },
  'in-flight': { type: 'string' },
  timeout: { type: 'string' },
} as const;

function keyOf(value: unknown, field: string, line: number): string {
  const key = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  throw new CliError('SNOOPY_CLI_INPUT', `stdin line ${line}: no string or number field \`${field}\` for the key`);
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [name] = positionals(given, ['topic']);
  const inFlight = integerFlag('in-flight', values['in-flight'], 1) ?? 10_000;
  const timeout = integerFlag('timeout', values.timeout, 1) ?? 10_000;
  const brokers = brokersOf(values.brokers, io);
  const keyField = values['key-field'];

  const topic = Topic<unknown>(name!, { 'bootstrap.servers': brokers }, {
    connectTimeoutMs: timeout,
    ...(values.string ? { codec: new StringCodec() as never } : {}),
  });
  const pending = new Set<Promise<unknown>>();
  let sent = 0;
  let failure: unknown;
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  try {
    let line = 0;
    for await (const text of lines) {
      line += 1;
      if (failure !== undefined || io.signal.aborted) break;
      if (text.trim() === '') continue;
      let value: unknown = text;
      if (!values.string) {
        try {
          value = JSON.parse(text);
        } catch (err) {
          throw new CliError('SNOOPY_CLI_INPUT', `stdin line ${line} is not JSON`, { cause: err });
        }
      }
      const key = keyField === undefined ? undefined : keyOf(value, keyField, line);
      const delivery = topic.send(value, key === undefined ? {} : { key }).then(
        () => { sent += 1; },
        (err: unknown) => { failure ??= err; },
      );
      pending.add(delivery);
      void delivery.finally(() => pending.delete(delivery));
      if (pending.size >= inFlight) await Promise.race(pending);
    }
  } finally {
    lines.close();
    await Promise.all(pending);
    await topic.close();
  }
  if (failure !== undefined) throw failure;
  await writeLine(io.stderr, `delivered ${sent} message${sent === 1 ? '' : 's'} to ${name}`);
  return 0;
}

export const produce: Command = { name: 'produce', summary: 'Send NDJSON lines from stdin to a topic, delivery confirmed', usage, run };
