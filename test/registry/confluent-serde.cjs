'use strict';
/**
 * Runs @confluentinc/schemaregistry's own AvroSerializer / AvroDeserializer for the interop tests,
 * in a plain Node process: inside vitest's workers, Node resolves the `module` export condition
 * first, which sends this CommonJS package's AWS SDK dependency to ESM files Node cannot load.
 *
 * stdin: {"op":"serialize","url":...,"topic":...,"value":{...}}  -> stdout: {"hex":"00..."}
 *        {"op":"deserialize","url":...,"topic":...,"hex":"00..."} -> stdout: {"value":{...}}
 * Serialize uses the latest schema version of `<topic>-value` (TopicNameStrategy).
 */
const { AvroDeserializer, AvroSerializer, SchemaRegistryClient, SerdeType } = require('@confluentinc/schemaregistry');

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const request = JSON.parse(input);
  const client = new SchemaRegistryClient({ baseURLs: [request.url] });
  if (request.op === 'serialize') {
    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const bytes = await serializer.serialize(request.topic, request.value);
    process.stdout.write(JSON.stringify({ hex: bytes.toString('hex') }));
  } else if (request.op === 'deserialize') {
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
    const value = await deserializer.deserialize(request.topic, Buffer.from(request.hex, 'hex'));
    process.stdout.write(JSON.stringify({ value }));
  } else {
    throw new Error(`unknown op ${request.op}`);
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
