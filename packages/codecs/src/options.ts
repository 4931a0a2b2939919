import { OptionsError, describeValue } from '@snoopy/core';
import type { SchemaRegistry } from './schema-registry.js';

/**
 * An Avro schema: a schema object (`{ type: 'record', ... }`), its JSON text, or the path of an
 * `.avsc` file holding it. A string is read as JSON when it starts with `{`, `[` or `"`, and as a
 * path otherwise.
 */
export type AvroSchema = string | Readonly<Record<string, unknown>> | readonly unknown[];

export interface AvroCodecOptions {
  /**
   * The schema decoded values follow, when it differs from the schema the bytes were written with.
   * Fields it adds take their defaults, fields it drops are skipped. A reader that cannot read the
   * writer schema fails at construction with `SNOOPY_CODEC_SCHEMA`.
   * @default undefined (values are decoded with the writer schema)
   */
  readonly readerSchema?: AvroSchema;
  /**
   * A schema registry: encode writes the Confluent wire format (byte 0, the 4-byte big-endian
   * schema id, the Avro body) and decode reads it. Needs `subject`, and `await codec.init()`
   * (or `AvroCodec.withRegistry()`) before the first encode.
   * @default undefined (plain Avro bodies, no framing)
   */
  readonly registry?: SchemaRegistry;
  /** The registry subject the schema is registered under (`<topic>-value` by Confluent's convention). @default undefined */
  readonly subject?: string;
  /**
   * With a registry: `init()` registers the schema under the subject (`true`), or only looks up the
   * id it already has there and fails if it has none (`false`).
   * @default true
   */
  readonly autoRegister?: boolean;
  /**
   * With a registry: `init()` also loads every schema version registered under the subject, so
   * messages written with older versions decode without a lookup.
   * @default true
   */
  readonly preloadSubject?: boolean;
}

export interface ResolvedAvroCodecOptions {
  readonly readerSchema: AvroSchema | undefined;
  readonly registry: SchemaRegistry | undefined;
  readonly subject: string | undefined;
  readonly autoRegister: boolean;
  readonly preloadSubject: boolean;
}

export const avroCodecDefaults = {
  readerSchema: undefined,
  registry: undefined,
  subject: undefined,
  autoRegister: true,
  preloadSubject: true,
} as const satisfies ResolvedAvroCodecOptions;

const avroKeys = new Set(Object.keys(avroCodecDefaults));

function checkObject(where: string, options: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(`Expected ${where} options to be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new OptionsError(`Unknown ${where} option \`${key}\`; expected one of ${[...known].map((k) => `\`${k}\``).join(', ')}`);
  }
  return options as Record<string, unknown>;
}

function checkBoolean(where: string, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new OptionsError(`Expected ${where} \`${key}\` to be a boolean, got ${describeValue(value)}`);
  return value;
}

export function isAvroSchema(value: unknown): value is AvroSchema {
  return typeof value === 'string' || (value !== null && typeof value === 'object');
}

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveAvroCodecOptions(options?: AvroCodecOptions): ResolvedAvroCodecOptions {
  const o = checkObject('AvroCodec', options, avroKeys);
  if (o.readerSchema !== undefined && !isAvroSchema(o.readerSchema)) {
    throw new OptionsError(`Expected AvroCodec \`readerSchema\` to be a schema object, JSON string or .avsc path, got ${describeValue(o.readerSchema)}`);
  }
  const registry = o.registry as SchemaRegistry | undefined;
  if (registry !== undefined && (registry === null || typeof (registry as Partial<SchemaRegistry>).schemaById !== 'function')) {
    throw new OptionsError(`Expected AvroCodec \`registry\` to be a SchemaRegistry, got ${describeValue(registry)}`);
  }
  const subject = o.subject;
  if (subject !== undefined && (typeof subject !== 'string' || subject.length === 0)) {
    throw new OptionsError(`Expected AvroCodec \`subject\` to be a non-empty string, got ${describeValue(subject)}`);
  }
  if (registry !== undefined && subject === undefined) {
    throw new OptionsError('Expected AvroCodec `subject` with `registry`, got `undefined` (undefined)');
  }
  if (subject !== undefined && registry === undefined) {
    throw new OptionsError('Expected AvroCodec `registry` with `subject`, got `undefined` (undefined)');
  }
  return Object.freeze({
    readerSchema: o.readerSchema as AvroSchema | undefined,
    registry,
    subject: subject as string | undefined,
    autoRegister: checkBoolean('AvroCodec', 'autoRegister', o.autoRegister, avroCodecDefaults.autoRegister),
    preloadSubject: checkBoolean('AvroCodec', 'preloadSubject', o.preloadSubject, avroCodecDefaults.preloadSubject),
  });
}

/** Credentials for the registry: HTTP basic auth, or a bearer token. */
export type RegistryAuth =
  | { readonly username: string; readonly password: string }
  | { readonly token: string };

export interface SchemaRegistryOptions {
  /** Base URL of a Confluent-API-compatible registry, e.g. `http://127.0.0.1:8081`. Required. */
  readonly url: string;
  /** @default undefined (no credentials) */
  readonly auth?: RegistryAuth;
  /** How long one HTTP request may take before it fails with `SNOOPY_REGISTRY_REQUEST`. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * How long `latest(subject)` answers from its cache before it asks the registry again (the
   * latest version of a subject changes over time; ids and registrations never do and are cached
   * for the life of the client).
   * @default 30000
   */
  readonly latestTtlMs?: number;
}

export interface ResolvedSchemaRegistryOptions {
  readonly url: string;
  readonly auth: RegistryAuth | undefined;
  readonly timeoutMs: number;
  readonly latestTtlMs: number;
}

export const schemaRegistryDefaults = {
  auth: undefined,
  timeoutMs: 10_000,
  latestTtlMs: 30_000,
} as const satisfies Omit<ResolvedSchemaRegistryOptions, 'url'>;

const registryKeys = new Set(['url', ...Object.keys(schemaRegistryDefaults)]);

function checkNonNegative(key: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new OptionsError(`Expected SchemaRegistry \`${key}\` to be an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveSchemaRegistryOptions(options: SchemaRegistryOptions): ResolvedSchemaRegistryOptions {
  const o = checkObject('SchemaRegistry', options ?? null, registryKeys);
  let url: URL;
  try {
    if (typeof o.url !== 'string') throw new TypeError('not a string');
    url = new URL(o.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('not http(s)');
  } catch {
    throw new OptionsError(`Expected SchemaRegistry \`url\` to be an http(s) URL, got ${describeValue(o.url)}`);
  }
  const auth = o.auth as Record<string, unknown> | undefined;
  if (auth !== undefined) {
    const basic = auth !== null && typeof auth === 'object' && typeof auth.username === 'string' && typeof auth.password === 'string';
    const bearer = auth !== null && typeof auth === 'object' && typeof auth.token === 'string';
    if (basic === bearer) {
      throw new OptionsError(`Expected SchemaRegistry \`auth\` to be { username, password } or { token }, got ${describeValue(auth)}`);
    }
  }
  return Object.freeze({
    url: url.href.replace(/\/+$/, ''),
    auth: auth === undefined ? undefined : Object.freeze({ ...auth } as RegistryAuth),
    timeoutMs: checkNonNegative('timeoutMs', o.timeoutMs, schemaRegistryDefaults.timeoutMs, 1),
    latestTtlMs: checkNonNegative('latestTtlMs', o.latestTtlMs, schemaRegistryDefaults.latestTtlMs, 0),
  });
}
