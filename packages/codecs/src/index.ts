export type { Codec } from './codec.js';
export { JsonCodec } from './json-codec.js';
export { StringCodec } from './string-codec.js';
export { BytesCodec } from './bytes-codec.js';
export { AvroCodec } from './avro-codec.js';
export { SchemaRegistry, type RegisteredSchema } from './schema-registry.js';
export { CodecError, RegistryError, type CodecErrorOptions, type RegistryErrorOptions } from './errors.js';
export {
  resolveAvroCodecOptions,
  resolveSchemaRegistryOptions,
  avroCodecDefaults,
  schemaRegistryDefaults,
  type AvroSchema,
  type AvroCodecOptions,
  type ResolvedAvroCodecOptions,
  type RegistryAuth,
  type SchemaRegistryOptions,
  type ResolvedSchemaRegistryOptions,
} from './options.js';
