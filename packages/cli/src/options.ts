import { OptionsError, describeValue } from '@snoopy/core';

export interface MetricsOptions {
  /** Port of the HTTP server for `/metrics` and `/healthz`; `0` picks a free one. @default 9464 */
  readonly port?: number;
  /** Address the server listens on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * `/healthz` fails (503) when a watched consumer has lag and has acknowledged nothing for this
   * long. @default 60000
   */
  readonly stallMs?: number;
  /** Brokers for consumer lag (an admin client per metrics handle). @default $KAFKA_BOOTSTRAP_SERVERS */
  readonly brokers?: string;
  /** Longest wait for a lag query before a scrape goes on without it. @default 5000 */
  readonly lagTimeoutMs?: number;
  /** Upper bounds of the handler latency histogram, in seconds. @default [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] */
  readonly buckets?: readonly number[];
}

export interface ResolvedMetricsOptions {
  readonly port: number;
  readonly host: string;
  readonly stallMs: number;
  readonly brokers: string | undefined;
  readonly lagTimeoutMs: number;
  readonly buckets: readonly number[];
}

export const metricsDefaults = Object.freeze({
  port: 9464,
  host: '127.0.0.1',
  stallMs: 60_000,
  lagTimeoutMs: 5_000,
  buckets: Object.freeze([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
});

const known = new Set(['port', 'host', 'stallMs', 'brokers', 'lagTimeoutMs', 'buckets']);

function integer(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`metrics: Expected \`${field}\` to be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

export function resolveMetricsOptions(options: MetricsOptions | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedMetricsOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new OptionsError(`metrics: Expected \`options\` to be an object, got ${describeValue(o)}`);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new OptionsError(`metrics: Unknown option \`${key}\` (known: ${[...known].join(', ')})`);
  }
  const host = o.host ?? metricsDefaults.host;
  if (typeof host !== 'string' || host === '') throw new OptionsError(`metrics: Expected \`host\` to be a non-empty string, got ${describeValue(host)}`);
  const brokers = o.brokers ?? (env.KAFKA_BOOTSTRAP_SERVERS || undefined);
  if (brokers !== undefined && (typeof brokers !== 'string' || brokers === '')) {
    throw new OptionsError(`metrics: Expected \`brokers\` to be host:port[,host:port...], got ${describeValue(brokers)}`);
  }
  const buckets = o.buckets ?? metricsDefaults.buckets;
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== 'number' || !(b > 0) || (i > 0 && b <= buckets[i - 1]!))) {
    throw new OptionsError(`metrics: Expected \`buckets\` to be increasing numbers > 0, got ${describeValue(buckets)}`);
  }
  return Object.freeze({
    port: integer('port', o.port ?? metricsDefaults.port, 0, 65_535),
    host,
    stallMs: integer('stallMs', o.stallMs ?? metricsDefaults.stallMs, 1),
    brokers,
    lagTimeoutMs: integer('lagTimeoutMs', o.lagTimeoutMs ?? metricsDefaults.lagTimeoutMs, 1),
    buckets: Object.freeze([...buckets]),
  });
}
