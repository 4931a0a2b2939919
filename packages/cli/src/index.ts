export { main } from './main.js';
export { commands } from './commands.js';
export { UsageError, type Command, type CommandIo } from './command.js';
export { CliError } from './errors.js';
export { Metrics, metrics, type Health, type WatchedCache, type WatchedTopic } from './metrics.js';
export { metricsDefaults, resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from './options.js';
