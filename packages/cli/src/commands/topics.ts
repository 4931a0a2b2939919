import type { Command, CommandIo } from '../command.js';
import { UsageError } from '../command.js';
import { connectAdmin } from '../internal/admin.js';
import { CliError } from '../errors.js';
import { brokersOf, integerFlag, parseFlags, positionals, writeLine } from '../internal/flags.js';

const usage = `Usage: snoopy topics [list] [--brokers host:port] [--all] [--json]
       snoopy topics describe <topic> [--brokers host:port] [--json]
       snoopy topics create <topic> [--partitions N] [--replication-factor N] [--config key=value ...]

Lists topics (internal ones like __consumer_offsets only with --all), describes one (partitions,
leaders, replicas, low and high offsets), or creates one.

Options:
  --brokers <list>             bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)
  --json                       one JSON object a line instead of text
  --partitions <N>             create: number of partitions (default 1)
  --replication-factor <N>     create: replicas per partition (default 1)
  --config <key=value>         create: a topic setting, repeatable (retention.ms=60000)
  --timeout <ms>               how long to wait for the brokers (default 10000)`;

const flags = {
  brokers: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  config: { type: 'string', multiple: true },
  timeout: { type: 'string' },
} as const;

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [action = 'list', ...rest] = given;
  if (!['list', 'describe', 'create'].includes(action)) throw new UsageError(`unknown action \`${action}\` (list, describe, create)`);
  const timeout = integerFlag('timeout', values.timeout, 1) ?? 10_000;
  const partitions = integerFlag('partitions', values.partitions, 1) ?? 1;
  const replicationFactor = integerFlag('replication-factor', values['replication-factor'], 1) ?? 1;
  const configEntries = (values.config ?? []).map((entry) => {
    const at = entry.indexOf('=');
    if (at < 1) throw new UsageError(`Expected \`--config\` to be key=value, got \`${entry}\``);
    return { name: entry.slice(0, at), value: entry.slice(at + 1) };
  });
  const [topic] = action === 'list' ? positionals(rest, []) : positionals(rest, ['topic']);
  const brokers = brokersOf(values.brokers, io);

  const admin = await connectAdmin(brokers, timeout);
  try {
    if (action === 'list') {
      const names = (await admin.listTopics({ timeout })).filter((n) => values.all || !n.startsWith('_')).sort();
      for (const name of names) await writeLine(io.stdout, values.json ? JSON.stringify({ topic: name }) : name);
      return 0;
    }
    if (action === 'create') {
      const created = await admin
        .createTopics({ timeout, topics: [{ topic: topic!, numPartitions: partitions, replicationFactor, configEntries }] })
        .catch((err: unknown) => {
          throw new CliError('SNOOPY_CLI_KAFKA', `Could not create topic ${topic} at ${brokers}`, { cause: err });
        });
      const line = created ? `created ${topic} (${partitions} partitions)` : `${topic} already exists`;
      await writeLine(io.stdout, values.json ? JSON.stringify({ topic, created, partitions }) : line);
      return 0;
    }
    const [meta] = await admin.fetchTopicMetadata({ topics: [topic!], timeout }).catch((err: unknown) => {
      throw new CliError('SNOOPY_CLI_KAFKA', `Could not describe topic ${topic} at ${brokers}`, { cause: err });
    });
    if (!meta) throw new CliError('SNOOPY_CLI_KAFKA', `No topic ${topic} at ${brokers}`);
    const offsets = await admin.fetchTopicOffsets(topic!);
    const rows = [...meta.partitions]
      .sort((a, b) => a.partitionId - b.partitionId)
      .map((p) => {
        const o = offsets.find((x) => x.partition === p.partitionId);
        return { partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, low: Number(o?.low ?? 0), high: Number(o?.high ?? 0) };
      });
    if (values.json) {
      await writeLine(io.stdout, JSON.stringify({ topic, partitions: rows }));
    } else {
      await writeLine(io.stdout, `${topic}: ${rows.length} partition${rows.length === 1 ? '' : 's'}, ${rows.reduce((n, r) => n + r.high - r.low, 0)} messages`);
      await writeLine(io.stdout, 'partition  leader  replicas  isr  low  high');
      for (const r of rows) {
        await writeLine(io.stdout, [r.partition, r.leader, r.replicas.join(','), r.isr.join(','), r.low, r.high].join('  '));
      }
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}

export const topics: Command = { name: 'topics', summary: 'List, describe and create Kafka topics', usage, run };
