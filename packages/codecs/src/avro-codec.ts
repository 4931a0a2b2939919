import type * as avro from 'avsc';
import { describeValue } from '@snoopy/core';
import type { Codec } from './codec.js';
import { CodecError, previewBytes } from './errors.js';
import { asBuffer } from './internal/bytes.js';
import { createType, loadSchema, typeLabel } from './internal/avro-schema.js';
import { loadAvsc } from './internal/avsc.js';
import { avscTap, type Reader, type TapConstructor } from './internal/tap.js';
import { resolveAvroCodecOptions, type AvroCodecOptions, type AvroSchema, type ResolvedAvroCodecOptions } from './options.js';
import type { SchemaRegistry } from './schema-registry.js';

/** How to read bytes written with one writer schema: what reads them as the reader schema, or why not. */
interface WriterEntry {
  readonly resolver: avro.Resolver | undefined;
  readonly error: CodecError | undefined;
}

const MAGIC = 0;
const HEADER = 5;

/**
 * Avro on avsc. Values are plain objects; `long` decodes to `number` within ±(2^53 - 1) and to
 * `bigint` beyond (encode takes either); `timestamp-millis` and `timestamp-micros` decode to `Date`
 * (micros are floored to the millisecond) and encode from one; `decimal` decodes to a string with
 * exactly `scale` fraction digits (`"-12.30"`) and encodes from such a string. Other logical types
 * are their underlying type.
 *
 * Plain: `encode` writes the bare Avro body and `decode` reads one written with `schema`,
 * resolved to `readerSchema` if that is given.
 *
 * With `{ registry, subject }`: the Confluent wire format, byte 0, the 4-byte big-endian schema
 * id, then the body. `Codec` is synchronous, so registry work happens up front, in
 * `await codec.init()` (or `await AvroCodec.withRegistry(...)`): it registers `schema` under
 * `subject` (or looks its id up, with `autoRegister: false`) and loads every version registered
 * under the subject. `decode` then resolves any of those writer ids to the reader schema with no
 * HTTP call. A message with an id the codec has not loaded throws a `CodecError`
 * (`SNOOPY_CODEC_DECODE`, `retriable: true`) naming the id and subject, and the codec starts
 * loading that id: decoding the same bytes again once `preload(id)` resolves succeeds.
 */
export class AvroCodec<T = unknown> implements Codec<T> {
  readonly name: string;
  readonly subject: string | undefined;
  readonly #options: ResolvedAvroCodecOptions;
  readonly #schema: unknown;
  readonly #writer: avro.Type;
  readonly #reader: avro.Type;
  readonly #resolver: avro.Resolver | undefined;
  readonly #registry: SchemaRegistry | undefined;
  /** avsc's read cursor, for the registry-framed decode. */
  readonly #Tap: TapConstructor = avscTap();
  #id = -1;
  /** Reads bodies written with `schema` (the registry's `#id`) as the reader schema. */
  #ownRead: Reader;
  /** With a registry: where encode writes, after the wire-format header it starts with. */
  #scratch: Buffer = Buffer.alloc(1024);
  readonly #writers = new Map<number, WriterEntry>();
  readonly #loading = new Map<number, Promise<void>>();
  #init: Promise<this> | undefined;

  constructor(schema: AvroSchema, options?: AvroCodecOptions) {
    this.#options = resolveAvroCodecOptions(options);
    this.#schema = loadSchema('avro', schema);
    this.#writer = createType('avro', this.#schema);
    this.name = `avro:${typeLabel(this.#writer)}`;
    this.#registry = this.#options.registry;
    this.subject = this.#options.subject;
    this.#ownRead = this.#writer as unknown as Reader;
    if (this.#options.readerSchema === undefined) {
      this.#reader = this.#writer;
    } else {
      this.#reader = createType(this.name, loadSchema(this.name, this.#options.readerSchema));
      this.#resolver = this.#resolve(this.#writer);
      this.#ownRead = this.#resolver as unknown as Reader;
    }
  }

  /** `new AvroCodec(schema, options)` with a registry, after `init()`: ready to encode and decode. */
  static withRegistry<T = unknown>(
    schema: AvroSchema,
    options: AvroCodecOptions & { readonly registry: SchemaRegistry; readonly subject: string },
  ): Promise<AvroCodec<T>> {
    return new AvroCodec<T>(schema, options).init();
  }

  /** The writer schema as JSON, with its logical types and defaults. */
  get schema(): unknown {
    return this.#schema;
  }

  /** With a registry, after `init()`: the id of the writer schema. */
  get schemaId(): number | undefined {
    return this.#id < 0 ? undefined : this.#id;
  }

  /**
   * With a registry: registers (or looks up) the writer schema and loads the subject's versions.
   * Idempotent; concurrent callers share one run; a failed run can be retried. Without a
   * registry it does nothing.
   */
  init(): Promise<this> {
    this.#init ??= this.#initialize().catch((error: unknown) => {
      this.#init = undefined;
      throw error;
    });
    return this.#init;
  }

  async #initialize(): Promise<this> {
    const registry = this.#registry;
    const subject = this.subject;
    if (!registry || subject === undefined) return this;
    const text = JSON.stringify(this.#schema);
    const id = this.#options.autoRegister ? await registry.register(subject, text) : (await registry.lookup(subject, text)).id;
    const own = { resolver: this.#resolver, error: undefined };
    this.#writers.set(id, own);
    if (this.#options.preloadSubject) {
      const versions = await registry.versions(subject);
      for (const version of versions) {
        const registered = await registry.version(subject, version);
        if (!this.#writers.has(registered.id)) this.#addWriter(registered.id, registered.schema, registered.schemaType, registered.references);
      }
    }
    this.#scratch[0] = MAGIC;
    this.#scratch.writeUInt32BE(id, 1);
    this.#id = id;
    return this;
  }

  /**
   * With a registry: loads the writer schema with this id, so messages written with it decode.
   * Resolves once it is loaded; rejects with a `RegistryError` if the registry has no such id.
   */
  preload(id: number): Promise<void> {
    if (this.#writers.has(id)) return Promise.resolve();
    const registry = this.#registry;
    if (!registry) return Promise.reject(new CodecError('SNOOPY_CODEC_SCHEMA', this.name, 'preload() needs a registry'));
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = registry.schemaById(id).then(
        (registered) => {
          this.#loading.delete(id);
          if (!this.#writers.has(id)) this.#addWriter(id, registered.schema, registered.schemaType, registered.references);
        },
        (error: unknown) => {
          this.#loading.delete(id);
          throw error;
        },
      );
      this.#loading.set(id, loading);
    }
    return loading;
  }

  encode(value: T): Buffer {
    if (this.#registry === undefined) {
      try {
        return this.#writer.toBuffer(value);
      } catch (error) {
        throw this.#encodeError(value, error);
      }
    }
    if (this.#id < 0) {
      throw new CodecError('SNOOPY_CODEC_ENCODE', this.name, `not initialised: await codec.init() before encoding to subject ${this.subject}`, {
        subject: this.subject,
      });
    }
    let end: number;
    try {
      // Written after the header already in the scratch buffer; negative: that many bytes short.
      end = this.#writer.encode(value, this.#scratch, HEADER);
      if (end < 0) {
        const bigger = Buffer.alloc(Math.max(this.#scratch.length * 2, this.#scratch.length - end));
        this.#scratch.copy(bigger, 0, 0, HEADER);
        this.#scratch = bigger;
        end = this.#writer.encode(value, bigger, HEADER);
      }
    } catch (error) {
      throw this.#encodeError(value, error);
    }
    const out = Buffer.allocUnsafe(end);
    this.#scratch.copy(out, 0, 0, end);
    return out;
  }

  decode(bytes: Buffer | Uint8Array): T {
    const buffer = asBuffer(this.name, bytes);
    if (this.#registry === undefined) {
      try {
        return this.#reader.fromBuffer(buffer, this.#resolver) as T;
      } catch (error) {
        throw this.#decodeError(buffer, -1, (error as Error).message, error);
      }
    }
    if (buffer.length < HEADER || buffer[0] !== MAGIC) {
      throw new CodecError(
        'SNOOPY_CODEC_DECODE',
        this.name,
        `not in the registry wire format (magic byte 0 and a 4-byte schema id) for subject ${this.subject}: ${previewBytes(buffer)}`,
        { subject: this.subject },
      );
    }
    // Big-endian uint32 at 1 (length checked above; cheaper than readUInt32BE's own checks).
    const id = buffer[1]! * 0x1000000 + ((buffer[2]! << 16) | (buffer[3]! << 8) | buffer[4]!);
    let read = this.#ownRead;
    if (id !== this.#id) {
      const writer = this.#writers.get(id);
      if (writer === undefined) {
        this.preload(id).catch(() => {}); // The next decode of this id throws again, and retries the load.
        throw new CodecError('SNOOPY_CODEC_DECODE', this.name, `unknown schema id ${id} for subject ${this.subject}: not loaded yet (await codec.preload(${id}))`, {
          schemaId: id,
          subject: this.subject,
          retriable: true,
        });
      }
      if (writer.error) throw writer.error;
      read = (writer.resolver ?? this.#reader) as unknown as Reader;
    }
    const tap = new this.#Tap(buffer, HEADER);
    let value: unknown;
    try {
      value = read._read(tap);
    } catch (error) {
      throw this.#decodeError(buffer, id, (error as Error).message, error);
    }
    if (tap.pos !== buffer.length) {
      throw this.#decodeError(buffer, id, tap.pos > buffer.length ? 'truncated buffer' : `${buffer.length - tap.pos} bytes of trailing data`);
    }
    return value as T;
  }

  #decodeError(buffer: Buffer, id: number, why: string, cause?: unknown): CodecError {
    if (id < 0) return new CodecError('SNOOPY_CODEC_DECODE', this.name, `cannot decode ${previewBytes(buffer)}: ${why}`, { cause });
    return new CodecError('SNOOPY_CODEC_DECODE', this.name, `cannot decode schema id ${id} of subject ${this.subject}: ${why}: ${previewBytes(buffer)}`, {
      cause,
      schemaId: id,
      subject: this.subject,
    });
  }

  #resolve(writer: avro.Type, id?: number): avro.Resolver | undefined {
    if (writer === this.#reader) return undefined;
    try {
      return this.#reader.createResolver(writer);
    } catch (error) {
      const which = id === undefined ? `writer ${typeLabel(writer)}` : `writer schema id ${id} of subject ${this.subject}`;
      throw new CodecError('SNOOPY_CODEC_SCHEMA', this.name, `reader schema cannot read ${which}: ${(error as Error).message}`, {
        cause: error,
        ...(id === undefined ? {} : { schemaId: id, subject: this.subject }),
      });
    }
  }

  #addWriter(id: number, schema: string, schemaType: string, references: readonly unknown[] | undefined): void {
    let entry: WriterEntry;
    try {
      if (schemaType !== 'AVRO') throw new CodecError('SNOOPY_CODEC_SCHEMA', this.name, `schema id ${id} of subject ${this.subject} is ${schemaType}, not AVRO`);
      if (references?.length) throw new CodecError('SNOOPY_CODEC_SCHEMA', this.name, `schema id ${id} of subject ${this.subject} has schema references, which are not supported`);
      const writer = createType(this.name, JSON.parse(schema));
      const same = writer.equals(this.#reader) && JSON.stringify(writer.schema({ exportAttrs: true })) === JSON.stringify(this.#reader.schema({ exportAttrs: true }));
      entry = { resolver: same ? undefined : this.#resolve(writer, id), error: undefined };
    } catch (error) {
      const codecError = error instanceof CodecError ? error
        : new CodecError('SNOOPY_CODEC_SCHEMA', this.name, `schema id ${id} of subject ${this.subject}: ${(error as Error).message}`, { cause: error, schemaId: id, subject: this.subject });
      entry = { resolver: undefined, error: codecError };
    }
    this.#writers.set(id, entry);
  }

  #encodeError(value: unknown, error: unknown): CodecError {
    let found: { path: string[]; value: unknown; type: avro.Type } | undefined;
    try {
      this.#writer.isValid(value, {
        errorHook: (path: string[], any: unknown, type: avro.Type) => {
          found ??= { path: [...path], value: any, type };
        },
      });
    } catch {
      // isValid itself can throw on exotic values; the original error still explains it.
    }
    if (!found) {
      return new CodecError('SNOOPY_CODEC_ENCODE', this.name, `cannot encode ${describeValue(value)}: ${(error as Error).message}`, { cause: error });
    }
    const where = found.path.length ? `field \`${found.path.join('.')}\`` : 'the value';
    return new CodecError(
      'SNOOPY_CODEC_ENCODE',
      this.name,
      `cannot encode ${where}: expected ${describeType(found.type)}, got ${describeValue(found.value)}`,
      { cause: error, path: found.path },
    );
  }
}

function describeType(type: avro.Type): string {
  const { Type } = loadAvsc();
  if (Type.isType(type, 'logical:timestamp-millis', 'logical:timestamp-micros')) return `a Date (${type.typeName.slice(8)})`;
  if (Type.isType(type, 'logical:decimal')) return 'a decimal string';
  if (Type.isType(type, 'union')) return `one of ${(type as avro.types.UnwrappedUnionType).types.map(describeType).join(' | ')}`;
  return type.name ? `${type.typeName} ${type.name}` : type.typeName;
}
