import { readFileSync } from 'node:fs';
import { AvroCodec, BytesCodec, JsonCodec, StringCodec, type AvroSchema, type Codec } from '@snoopy/codecs';
import { UsageError } from '../command.js';

/** `--codec json|string|bytes|avro:<schema.avsc or inline JSON schema>`. */
export function codecOf(spec: string | undefined): Codec<unknown> {
  const name = spec ?? 'json';
  if (name === 'json') return new JsonCodec() as Codec<unknown>;
  if (name === 'string') return new StringCodec() as Codec<unknown>;
  if (name === 'bytes') return new BytesCodec() as Codec<unknown>;
  if (name.startsWith('avro:')) {
    const where = name.slice('avro:'.length);
    let schema: AvroSchema;
    try {
      schema = JSON.parse(where.trimStart().startsWith('{') ? where : readFileSync(where, 'utf8')) as AvroSchema;
    } catch (err) {
      throw new UsageError(`\`--codec ${name}\`: cannot read an Avro schema from \`${where}\`: ${(err as Error).message}`);
    }
    return new AvroCodec(schema) as Codec<unknown>;
  }
  throw new UsageError(`Expected \`--codec\` to be json, string, bytes or avro:<schema>, got \`${name}\``);
}
