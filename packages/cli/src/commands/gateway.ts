import { runGateway } from '@snoopy/http';
import type { Command, CommandIo } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag, parseFlags } from '../internal/flags.js';

const usage = `Usage: snoopy gateway --config <gateway.json> [--port <n>]

Runs the event gateway of @snoopy/http: publish over HTTP (POST /topics/:topic/events), webhook
subscriptions (PUT/GET/DELETE /subscriptions/:name), grant-checked filtered streams as SSE or NDJSON
(GET /topics/:topic/stream), grants over HTTP for the admin (POST /grants, DELETE /grants/:jti),
GET /healthz and GET /metrics. The config is a JSON GatewayOptions object: kafka (librdkafka
settings; bootstrap.servers defaults to $KAFKA_BOOTSTRAP_SERVERS), topics, keys, adminToken,
dataDir (relative to the config file), port, host. SIGINT/SIGTERM stop it gracefully.
Exit code 0 after a graceful stop, 1 when it failed, 2 for a bad command line or config.

Options:
  --config <file>   the gateway config (required)
  --port <n>        overrides the config's port`;

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { config: { type: 'string' }, port: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument \`${positionals[0]}\``);
  if (values.config === undefined) throw new UsageError('missing --config <gateway.json>');
  const port = integerFlag('port', values.port, 0);
  try {
    await runGateway({ config: values.config, signal: io.signal, stdout: io.stdout, env: io.env, ...(port === undefined ? {} : { port }) });
    return 0;
  } catch (error) {
    if ((error as { code?: string }).code === 'SNOOPY_OPTIONS_INVALID') throw new UsageError((error as Error).message);
    io.stderr.write(`snoopy gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export const gateway: Command = { name: 'gateway', summary: 'Run the event gateway: publish over HTTP, webhook subscriptions, filtered streams', usage, run };
