import type { Command, CommandIo } from '../command.js';
import { connectAdmin } from '../internal/admin.js';
import { groupLag } from '../internal/lag.js';
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

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, flags);
  const [group] = positionals(given, ['group']);
  const timeout = integerFlag('timeout', values.timeout, 1) ?? 10_000;
  const brokers = brokersOf(values.brokers, io);
  const admin = await connectAdmin(brokers, timeout);
  try {
    const rows = await groupLag(admin, brokers, group!, values.topic, timeout);
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
