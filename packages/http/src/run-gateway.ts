import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { OptionsError } from '@snoopy/core';
import { Gateway } from './gateway.js';
import type { GatewayOptions } from './options.js';

export interface RunGatewayOptions {
  /** Path of the JSON config (`GatewayOptions`; `dataDir` relative to the file). */
  readonly config: string;
  /** Aborting it stops the gateway gracefully (the CLI aborts it on SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
  /** Where the one "listening" line goes. */
  readonly stdout: NodeJS.WritableStream;
  /** `KAFKA_BOOTSTRAP_SERVERS` fills in `kafka["bootstrap.servers"]` when the config has none. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides the config's port. */
  readonly port?: number;
}

/** Reads a gateway config file into `GatewayOptions`; a bad file fails with `SNOOPY_OPTIONS_INVALID`. */
export async function loadGatewayConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayOptions> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new OptionsError(`gateway: could not read the config ${path}: ${(cause as Error).message}`, { cause });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new OptionsError(`gateway: the config ${path} is not a JSON object`);
  const c = raw as Record<string, unknown>;
  const kafka = { ...((c.kafka as Record<string, unknown> | undefined) ?? {}) };
  if (kafka['bootstrap.servers'] === undefined && env.KAFKA_BOOTSTRAP_SERVERS) kafka['bootstrap.servers'] = env.KAFKA_BOOTSTRAP_SERVERS;
  const dataDir = typeof c.dataDir === 'string' ? resolve(dirname(path), c.dataDir) : c.dataDir;
  return { ...c, kafka, dataDir } as unknown as GatewayOptions;
}

/**
 * What `snoopy gateway --config gateway.json` runs: starts the gateway, prints where it listens,
 * and on `signal` stops gracefully (stop accepting, finish publishes, close streams with a final
 * event, stop subscriptions and commit). Resolves once it has stopped.
 */
export async function runGateway(options: RunGatewayOptions): Promise<void> {
  const config = await loadGatewayConfig(options.config, options.env);
  const gateway = await Gateway.start(options.port === undefined ? config : { ...config, port: options.port });
  options.stdout.write(`${JSON.stringify({ event: 'listening', url: gateway.address.url, topics: Object.keys(gateway.options.topics) })}\n`);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await gateway.close();
}
