import type { Command } from './command.js';

/**
 * Every `snoopy` subcommand, loaded only when it runs (so `snoopy cache` never loads the Kafka
 * client). Add one line per subcommand.
 */
export const commands: Readonly<Record<string, { readonly summary: string; load(): Promise<Command> }>> = {
  tail: { summary: 'Print the decoded messages of a topic, following new ones', load: async () => (await import('./commands/tail.js')).tail },
  produce: { summary: 'Send NDJSON lines from stdin to a topic, delivery confirmed', load: async () => (await import('./commands/produce.js')).produce },
  topics: { summary: 'List, describe and create Kafka topics', load: async () => (await import('./commands/topics.js')).topics },
  lag: { summary: 'Show how far a consumer group is behind, per partition', load: async () => (await import('./commands/lag.js')).lag },
  cache: { summary: 'Inspect a Cache directory: get, scan, stats', load: async () => (await import('./commands/cache.js')).cache },
  run: { summary: 'Run a data source (a DataSource module) into NDJSON or a topic', load: async () => (await import('./commands/run.js')).runCommand },
  gateway: { summary: 'Run the event gateway: publish over HTTP, webhook subscriptions, filtered streams', load: async () => (await import('./commands/gateway.js')).gateway },
};
