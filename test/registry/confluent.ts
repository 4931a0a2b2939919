/** Calls test/registry/confluent-serde.cjs: Confluent's own Avro serde, in a plain Node process. */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'confluent-serde.cjs');

function run(request: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // No execArgv: the child must not inherit vitest's --conditions.
    const child = execFile(process.execPath, [script], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`confluent-serde failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
    child.stdin!.end(JSON.stringify(request));
  });
}

/** Confluent's AvroSerializer, with the latest schema version of `<topic>-value`. */
export async function confluentSerialize(url: string, topic: string, value: unknown): Promise<Buffer> {
  const { hex } = await run({ op: 'serialize', url, topic, value });
  return Buffer.from(hex as string, 'hex');
}

/** Confluent's AvroDeserializer. */
export async function confluentDeserialize(url: string, topic: string, bytes: Buffer): Promise<unknown> {
  const { value } = await run({ op: 'deserialize', url, topic, hex: bytes.toString('hex') });
  return value;
}
