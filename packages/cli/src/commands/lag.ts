import type { Command, CommandIo } from '../command.js';
import { connectAdmin } from '../internal/admin.js';
import { CliError } from '../internal/errors.js';
import { brokersOf, integerFlag, parseFlags, positionals, writeLine } from '../internal/flags.js';

const usage = `Usage: snoopy lag <group> [--topic <topic> ...] [--brokers host:port] [--json]

How far a consumer group is behind: per partition the committed offset, the end offset and the
lag (end - committed; a partition without a commit counts from its low offset). Ends with the total.

Options:
  --brokers <list>   bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)
  --topic <topic>    only this topic, repeatable (default: every topic the group committed on)
  --json             one JSON object a line instead of text
  --timeout <ms>     how long to wait for the brokers (default 10000)`;

const flags = {
  brokers: { type: 'string' },
  topic: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** One partition's position of a group. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset, or null when the group has committed nothing on this partition. */
  readonly committed: number | null;
  readonly end: number;
  readonly lag: number;
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [group] = positionals(given, ['group']);
  const timeout = integerFlag('timeout', values.timeout, 1) ?? 10_000;
  const brokers = brokersOf(values.brokers, io);
  const admin = await connectAdmin(brokers, timeout);
  try {
    const committed = await admin
      .fetchOffsets({ groupId: group!, timeout, ...(values.topic ? { topics: values.topic } : {}) })
      .catch((err: unknown) => {
        throw new CliError('SNOOPY_CLI_KAFKA', `Could not fetch the offsets of group ${group} at ${brokers}`, { cause: err });
      });
    const rows: PartitionLag[] = [];
    for (const { topic, partitions } of [...committed].sort((a, b) => a.topic.localeCompare(b.topic))) {
      const ends = await admin.fetchTopicOffsets(topic).catch((err: unknown) => {
        throw new CliError('SNOOPY_CLI_KAFKA', `Could not fetch the end offsets of ${topic} at ${brokers}`, { cause: err });
      });
      // Every partition of the topic: one the group never committed on lags by all it holds.
      for (const bounds of [...ends].sort((a, b) => a.partition - b.partition)) {
        const end = Number(bounds.high);
        const at = Number(partitions.find((p) => p.partition === bounds.partition)?.offset ?? -1);
        const has = Number.isFinite(at) && at >= 0;
        rows.push({ topic, partition: bounds.partition, committed: has ? at : null, end, lag: Math.max(0, end - (has ? at : Number(bounds.low))) });
      }
    }
    const total = rows.reduce((n, r) => n + r.lag, 0);
    if (values.json) {
      for (const r of rows) await writeLine(io.stdout, JSON.stringify({ group, ...r }));
    } else {
      await writeLine(io.stdout, 'topic  partition  committed  end  lag');
      for (const r of rows) await writeLine(io.stdout, `${r.topic}  ${r.partition}  ${r.committed ?? '-'}  ${r.end}  ${r.lag}`);
      await writeLine(io.stdout, `total lag ${total}`);
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}

export const lag: Command = { name: 'lag', summary: 'Show how far a consumer group is behind, per partition', usage, run };
