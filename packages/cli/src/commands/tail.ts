import { randomUUID } from 'node:crypto';
import kafka from '@confluentinc/kafka-javascript';
import type { Command, CommandIo } from '../command.js';
import { UsageError } from '../command.js';
import { codecOf } from '../internal/codec.js';
import { CliError } from '../errors.js';
import { brokersOf, integerFlag, parseFlags, positionals, writeLine } from '../internal/flags.js';
import { compileWhere, type Record as TailRecord } from '../internal/where.js';

const usage = `Usage: snoopy tail <topic> [--from earliest|latest|<offset>|<time>] [--codec json|string|bytes|avro:<schema>]
                   [--key] [--headers] [--limit N] [--where <filter> ...] [--ndjson] [--exit]

Prints the messages of <topic>, decoded, one a line, and keeps following new ones until
interrupted (or until --limit messages, or with --exit the end of every partition as it was when
tail started). Reads without a consumer group and commits nothing.

Options:
  --brokers <list>     bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)
  --from <where>       earliest, latest (default), an offset (every partition), or a time
                       (2026-11-30T10:00:00Z, or epoch milliseconds with a trailing ms: 1764496800000ms)
  --partition <N>      only this partition
  --codec <codec>      json (default), string, bytes, or avro:<file.avsc | inline schema JSON>
  --key                print the key before the value (text output)
  --headers            print the headers (text output)
  --ndjson             one JSON object a line: topic, partition, offset, timestamp, key, headers, value
  --where <filter>     only messages where path<op>value holds (op = != > >= < <= ~); repeatable.
                       Paths: key, partition, offset, timestamp, headers.<name>, value.<field>,
                       or a bare field of the value: --where 'status=paid' --where 'total>100'
  --limit <N>          stop after N printed messages
  --exit               stop at the end of the topic instead of following
  --timeout <ms>       how long to wait for the brokers (default 10000)`;

const flags = {
  brokers: { type: 'string' },
  from: { type: 'string' },
  partition: { type: 'string' },
  codec: { type: 'string' },
  key: { type: 'boolean' },
  headers: { type: 'boolean' },
  ndjson: { type: 'boolean' },
  where: { type: 'string', multiple: true },
  limit: { type: 'string' },
  exit: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

type From = { readonly kind: 'earliest' | 'latest' } | { readonly kind: 'offset'; readonly offset: number } | { readonly kind: 'time'; readonly ms: number };

function fromOf(spec: string | undefined): From {
  if (spec === undefined || spec === 'latest') return { kind: 'latest' };
  if (spec === 'earliest') return { kind: 'earliest' };
  if (/^\d+$/.test(spec)) return { kind: 'offset', offset: Number(spec) };
  if (/^\d+ms$/.test(spec)) return { kind: 'time', ms: Number(spec.slice(0, -2)) };
  const ms = Date.parse(spec);
  if (Number.isFinite(ms) && /\d{4}-\d{2}-\d{2}/.test(spec)) return { kind: 'time', ms };
  throw new UsageError(`Expected \`--from\` to be earliest, latest, an offset or a time, got \`${spec}\``);
}

type Consumer = InstanceType<typeof kafka.KafkaConsumer>;

function call<T>(what: string, brokers: string, fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, result) => (err ? reject(new CliError('SNOOPY_CLI_KAFKA', `${what} at ${brokers} failed`, { cause: err })) : resolve(result)));
  });
}

function headersOf(raw: unknown): globalThis.Record<string, string> {
  const out: globalThis.Record<string, string> = {};
  for (const entry of (raw as globalThis.Record<string, unknown>[] | undefined) ?? []) {
    for (const [name, value] of Object.entries(entry)) out[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined';
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [topic] = positionals(given, ['topic']);
  const from = fromOf(values.from);
  const only = integerFlag('partition', values.partition, 0);
  const limit = integerFlag('limit', values.limit, 1) ?? Infinity;
  const timeout = integerFlag('timeout', values.timeout, 1) ?? 10_000;
  const codec = codecOf(values.codec);
  const where = compileWhere(values.where ?? []);
  const brokers = brokersOf(values.brokers, io);

  const consumer: Consumer = new kafka.KafkaConsumer(
    {
      'bootstrap.servers': brokers,
      'group.id': `snoopy-tail-${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'log_level': 0,
    } as never,
    {},
  );
  await call('connecting', brokers, (cb) => consumer.connect({ timeout }, cb as never));
  try {
    const metadata = await call<{ topics: { name: string; partitions: { id: number }[] }[] }>('reading metadata', brokers, (cb) =>
      consumer.getMetadata({ topic, timeout } as never, cb as never),
    );
    const found = metadata.topics.find((t) => t.name === topic);
    if (!found || found.partitions.length === 0) throw new CliError('SNOOPY_CLI_KAFKA', `No topic ${topic} at ${brokers}`);
    const partitions = found.partitions.map((p) => p.id).filter((p) => only === undefined || p === only).sort((a, b) => a - b);
    if (partitions.length === 0) throw new UsageError(`topic ${topic} has no partition ${only}`);

    const assignment: { topic: string; partition: number; offset: number }[] = [];
    const ends = new Map<number, number>();
    for (const partition of partitions) {
      const marks = await call<{ lowOffset: number; highOffset: number }>(`reading the offsets of ${topic}/${partition}`, brokers, (cb) =>
        consumer.queryWatermarkOffsets(topic!, partition, timeout, cb as never),
      );
      let offset = from.kind === 'earliest' ? marks.lowOffset : from.kind === 'latest' ? marks.highOffset : 0;
      if (from.kind === 'offset') offset = Math.min(Math.max(from.offset, marks.lowOffset), marks.highOffset);
      if (from.kind === 'time') {
        const [at] = await call<{ offset: number }[]>(`finding offsets by time in ${topic}`, brokers, (cb) =>
          consumer.offsetsForTimes([{ topic: topic!, partition, offset: from.ms }], timeout, cb as never),
        );
        offset = at && at.offset >= 0 ? at.offset : marks.highOffset;
      }
      if (values.exit) {
        if (offset >= marks.highOffset) continue;
        ends.set(partition, marks.highOffset);
      }
      assignment.push({ topic: topic!, partition, offset });
    }
    if (assignment.length === 0) return 0;
    consumer.assign(assignment);
    consumer.setDefaultConsumeTimeout(200);

    let printed = 0;
    while (printed < limit && !io.signal.aborted && (!values.exit || ends.size > 0)) {
      const batch = await call<kafka.Message[]>('consuming', brokers, (cb) => consumer.consume(500, cb as never));
      for (const msg of batch) {
        if (values.exit) {
          const end = ends.get(msg.partition);
          if (end === undefined) continue;
          if (msg.offset + 1 >= end) ends.delete(msg.partition);
          if (msg.offset >= end) continue;
        }
        let value: unknown;
        try {
          value = msg.value === null || msg.value === undefined ? null : codec.decode(msg.value);
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'SNOOPY_CODEC_DECODE';
          await writeLine(io.stderr, `snoopy tail: ${code} at ${topic}/${msg.partition}@${msg.offset}: ${(err as Error).message}`);
          continue;
        }
        const key = msg.key === null || msg.key === undefined ? null : Buffer.isBuffer(msg.key) ? msg.key.toString('utf8') : String(msg.key);
        const record: TailRecord = { key, value, partition: msg.partition, offset: msg.offset, timestamp: msg.timestamp, headers: headersOf(msg.headers) };
        if (!where(record)) continue;
        if (values.ndjson) {
          await writeLine(io.stdout, show({ topic, ...record }));
        } else {
          const parts: string[] = [];
          if (values.key) parts.push(key ?? '(no key)');
          if (values.headers) parts.push(JSON.stringify(record.headers));
          parts.push(show(value));
          await writeLine(io.stdout, parts.join('\t'));
        }
        if (++printed >= limit) break;
      }
      // Transaction markers and compaction leave gaps: the consumer's position tells when a
      // partition has passed its end even when no message sits at end - 1.
      if (values.exit && ends.size > 0) {
        for (const p of consumer.position([...ends.keys()].map((partition) => ({ topic: topic!, partition })))) {
          const end = ends.get(p.partition);
          if (end !== undefined && typeof p.offset === 'number' && p.offset >= end) ends.delete(p.partition);
        }
      }
    }
    return 0;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

export const tail: Command = { name: 'tail', summary: 'Print the decoded messages of a topic, following new ones', usage, run };
