import { OptionsError, describeValue } from '@snoopy/core';
import { KafkaError } from './errors.js';
import { librdkafkaProperties } from './internal/librdkafka-properties.js';

/** A librdkafka setting's value: strings, numbers and booleans, or a callback for the few that take one. */
export type KafkaConfigValue = string | number | boolean | ((...args: any[]) => unknown);

/**
 * librdkafka settings, by their librdkafka names (`bootstrap.servers`, `group.id`,
 * `security.protocol`, ...). A Topic's config holds both consumer and producer settings; each
 * client gets the ones that apply to it.
 */
export type KafkaConfig = Readonly<Record<string, KafkaConfigValue | undefined>>;

const processWide: Record<string, KafkaConfigValue> = {};

/** Edit distance of two short strings (property names), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** @internal The known librdkafka property closest to `name`, when it is close enough to be a typo. */
export function closestProperty(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const known of librdkafkaProperties) {
    if (Math.abs(known.length - name.length) >= bestDistance) continue;
    const d = distance(name.toLowerCase(), known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * @internal Checks a config object, naming the first bad entry: a value of the wrong type fails
 * with `SNOOPY_OPTIONS_INVALID`, a name librdkafka does not know (`bootstrap.server`) with
 * `SNOOPY_KAFKA_CONFIG` and the closest known name.
 */
export function checkConfig(where: string, config: unknown): KafkaConfig {
  if (config === undefined) return {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new OptionsError(`${where}: Expected \`config\` to be an object of librdkafka settings, got ${describeValue(config)}`);
  }
  for (const [key, value] of Object.entries(config)) {
    const t = typeof value;
    if (value !== undefined && t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'function') {
      throw new OptionsError(`${where}: Expected config \`${key}\` to be a string, number, boolean or function, got ${describeValue(value)}`);
    }
  }
  for (const key of Object.keys(config)) {
    if (librdkafkaProperties.has(key)) continue;
    const near = closestProperty(key);
    throw new KafkaError(
      'SNOOPY_KAFKA_CONFIG',
      `${where}: \`${key}\` is not a librdkafka configuration property${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; see librdkafka's CONFIGURATION.md`,
      { property: key },
    );
  }
  return config as KafkaConfig;
}

/**
 * Sets process-wide librdkafka settings (`bootstrap.servers`, security, ...). They are merged
 * under each Topic's own settings when that Topic first connects, so it does not matter whether
 * `Conf` is called before or after the Topics are created. Later calls add to or override
 * earlier ones; a key set to `undefined` is removed.
 */
export function Conf(config: KafkaConfig): void {
  checkConfig('Conf', config);
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) delete processWide[key];
    else processWide[key] = value;
  }
}

/** @internal The process-wide settings as they are now. */
export function processConf(): Readonly<Record<string, KafkaConfigValue>> {
  return { ...processWide };
}

const consumerOnly = new Set([
  'group.id', 'group.instance.id', 'group.protocol', 'group.remote.assignor', 'auto.offset.reset',
  'enable.auto.commit', 'enable.auto.offset.store', 'auto.commit.interval.ms', 'isolation.level',
  'partition.assignment.strategy', 'session.timeout.ms', 'heartbeat.interval.ms', 'max.poll.interval.ms',
  'fetch.min.bytes', 'fetch.wait.max.ms', 'fetch.max.bytes', 'max.partition.fetch.bytes', 'fetch.error.backoff.ms',
  'enable.partition.eof', 'check.crcs', 'queued.min.messages', 'queued.max.messages.kbytes',
  'consume.callback.max.messages', 'rebalance_cb', 'offset_commit_cb', 'coordinator.query.interval.ms',
]);

const producerOnly = new Set([
  'partitioner', 'linger.ms', 'queue.buffering.max.ms', 'batch.num.messages', 'batch.size',
  'queue.buffering.max.messages', 'queue.buffering.max.kbytes', 'enable.idempotence', 'acks',
  'request.required.acks', 'compression.type', 'compression.codec', 'compression.level', 'message.timeout.ms',
  'delivery.timeout.ms', 'transactional.id', 'transaction.timeout.ms', 'retries', 'message.send.max.retries',
  'max.in.flight', 'max.in.flight.requests.per.connection', 'dr_cb', 'dr_msg_cb', 'sticky.partitioning.linger.ms',
  'enable.gapless.guarantee', 'queuing.strategy', 'delivery.report.only.error',
]);

type Settings = Record<string, KafkaConfigValue>;

function without(config: Readonly<Record<string, KafkaConfigValue | undefined>>, drop: ReadonlySet<string>): Settings {
  const out: Settings = {};
  for (const [k, v] of Object.entries(config)) if (v !== undefined && !drop.has(k)) out[k] = v;
  return out;
}

/** @internal The settings of `config` that a consumer takes. */
export function consumerSettings(config: KafkaConfig): Settings {
  return without(config, producerOnly);
}

/** @internal The settings of `config` that a producer takes. */
export function producerSettings(config: KafkaConfig): Settings {
  return without(config, consumerOnly);
}

/** @internal The settings an admin client takes. */
export function adminSettings(config: KafkaConfig): Settings {
  const out = without(without(config, consumerOnly), producerOnly);
  return out;
}

/** @internal `bootstrap.servers` (or `metadata.broker.list`) for error messages. */
export function bootstrapOf(config: KafkaConfig): string {
  const servers = config['bootstrap.servers'] ?? config['metadata.broker.list'];
  return typeof servers === 'string' && servers.length > 0 ? servers : '(none set)';
}

/** librdkafka's topic-level settings: the client takes them in its second (topic) config object. */
const topicLevel = new Set([
  'request.required.acks', 'acks', 'request.timeout.ms', 'message.timeout.ms', 'delivery.timeout.ms',
  'queuing.strategy', 'produce.offset.report', 'partitioner', 'partitioner_cb', 'msg_order_cmp',
  'compression.codec', 'compression.type', 'compression.level', 'auto.commit.enable', 'auto.offset.reset',
  'offset.store.path', 'offset.store.sync.interval.ms', 'offset.store.method', 'consume.callback.max.messages',
]);

/** @internal Splits settings into librdkafka's global and topic config objects. */
export function splitTopicLevel(settings: Readonly<Record<string, unknown>>): [Record<string, unknown>, Record<string, unknown>] {
  const global: Record<string, unknown> = {};
  const topic: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (v === undefined) continue;
    if (topicLevel.has(k)) topic[k] = v;
    else global[k] = v;
  }
  return [global, topic];
}
