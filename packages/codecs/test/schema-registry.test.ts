/**
 * The registry client, the Confluent wire format and interoperability with Confluent's own
 * serializer (@confluentinc/schemaregistry, run by test/registry/confluent.ts), against a real
 * registry: Apicurio Registry's Confluent-compatible API, started by test/registry/registry.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec, CodecError, RegistryError, SchemaRegistry } from '@snoopy/codecs';
import { confluentDeserialize, confluentSerialize } from '../../../test/registry/confluent.js';
import { startRegistry, type TestRegistry } from '../../../test/registry/registry.js';

let server: TestRegistry;

beforeAll(async () => {
  server = await startRegistry();
}, 20 * 60_000); // The first run on a machine builds the registry jar.

afterAll(async () => {
  await server?.close();
});

const userV1 = {
  type: 'record',
  name: 'User',
  namespace: 'snoopy.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'admin', type: 'boolean' },
    { name: 'email', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'role', type: { type: 'enum', name: 'Role', symbols: ['GUEST', 'MEMBER', 'OWNER'] } },
    { name: 'scores', type: { type: 'map', values: 'double' } },
    { name: 'joined', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};

const userV2 = {
  ...userV1,
  fields: [
    ...userV1.fields.filter((f) => f.name !== 'admin'),
    { name: 'country', type: 'string', default: 'NL' },
  ],
};

const user = {
  id: 42,
  name: 'Ada',
  admin: true,
  email: 'ada@example.com',
  tags: ['a', 'b'],
  role: 'OWNER',
  scores: { x: 1.5 },
  joined: new Date('2026-01-02T03:04:05.678Z'),
};

function fresh(): { topic: string; subject: string } {
  const topic = `snoopy-${randomUUID()}`;
  return { topic, subject: `${topic}-value` };
}

describe('SchemaRegistry client', () => {
  it('registers, fetches by id, looks up and fetches the latest version', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const id = await registry.register(subject, userV1);
    expect(id).toBeGreaterThan(0);
    const byId = await registry.schemaById(id);
    expect(JSON.parse(byId.schema)).toStrictEqual(userV1);
    expect(byId.schemaType).toBe('AVRO');
    const found = await registry.lookup(subject, userV1);
    expect(found).toMatchObject({ id, subject, version: 1 });
    const latest = await registry.latest(subject);
    expect(latest).toMatchObject({ id, subject, version: 1 });
    const id2 = await registry.register(subject, userV2);
    expect(id2).not.toBe(id);
    expect(await registry.versions(subject)).toStrictEqual([1, 2]);
    expect((await registry.version(subject, 2)).id).toBe(id2);
  });

  it('caches answers that never change: repeated calls make no HTTP request', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const id = await registry.register(subject, userV1);
    await registry.schemaById(id);
    await registry.version(subject, 1);
    await registry.lookup(subject, userV1);
    await registry.latest(subject);
    const before = registry.requests;
    for (let i = 0; i < 100; i++) {
      expect(await registry.register(subject, userV1)).toBe(id);
      expect((await registry.schemaById(id)).id).toBe(id);
      await registry.version(subject, 1);
      await registry.lookup(subject, userV1);
      await registry.latest(subject);
    }
    expect(registry.requests).toBe(before);
    // Concurrent callers of the same lookup share one request.
    const other = new SchemaRegistry({ url: server.url });
    await Promise.all(Array.from({ length: 20 }, () => other.schemaById(id)));
    expect(other.requests).toBe(1);
  });

  it('reports a missing id or subject as SNOOPY_REGISTRY_NOT_FOUND and does not cache the failure', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const missing = 2_000_000_000;
    await expect(registry.schemaById(missing)).rejects.toMatchObject({ code: 'SNOOPY_REGISTRY_NOT_FOUND', status: 404, retriable: false });
    await expect(registry.schemaById(missing)).rejects.toBeInstanceOf(RegistryError);
    expect(registry.requests).toBe(2);
    const { subject } = fresh();
    await expect(registry.latest(subject)).rejects.toMatchObject({ code: 'SNOOPY_REGISTRY_NOT_FOUND' });
    await expect(registry.lookup(subject, userV1)).rejects.toMatchObject({ code: 'SNOOPY_REGISTRY_NOT_FOUND' });
  });

  it('reports an unreachable registry as a retriable SNOOPY_REGISTRY_REQUEST', async () => {
    const registry = new SchemaRegistry({ url: 'http://127.0.0.1:9', timeoutMs: 5_000 });
    const error = await registry.schemaById(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'SNOOPY_REGISTRY_REQUEST', retriable: true });
    expect((error as Error).message).toContain('http://127.0.0.1:9');
  });

  it('rejects bad options at construction', () => {
    expect(() => new SchemaRegistry({ url: 'not a url' })).toThrow(/Expected SchemaRegistry `url` to be an http\(s\) URL, got `"not a url"` \(string\)/);
    expect(() => new SchemaRegistry({ url: 'http://x', auth: { username: 'u' } as never })).toThrow(/auth/);
    expect(() => new SchemaRegistry({ url: 'http://x', timeoutMs: 0 })).toThrow(/integer >= 1, got `0` \(number\)/);
    expect(() => new SchemaRegistry(undefined as never)).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
  });
});

describe('AvroCodec with a registry: Confluent wire format', () => {
  it('writes magic byte 0, the 4-byte big-endian schema id and the Avro body', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject });
    const id = await registry.register(subject, userV1);
    expect(codec.schemaId).toBe(id);
    const bytes = codec.encode(user);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(bytes.subarray(5).equals(new AvroCodec(userV1).encode(user))).toBe(true);
    expect(codec.decode(bytes)).toStrictEqual(user);
  });

  it('registers primitive schemas as JSON text', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry<string>('"string"', { registry, subject });
    expect((await registry.schemaById(codec.schemaId!)).schema.replace(/\s/g, '')).toMatch(/^("string"|\{"type":"string"\})$/);
    expect(codec.decode(codec.encode('héllo'))).toBe('héllo');
  });

  it('makes no HTTP call for a steady stream once initialised', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry<typeof user>(userV1, { registry, subject });
    const before = registry.requests;
    for (let i = 0; i < 1000; i++) expect(codec.decode(codec.encode({ ...user, id: i })).id).toBe(i);
    expect(registry.requests).toBe(before);
  });

  it('resolves every version registered under the subject to the reader schema', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const v1 = await AvroCodec.withRegistry(userV1, { registry, subject });
    const old = v1.encode(user);
    const v2 = await AvroCodec.withRegistry(userV2, { registry, subject });
    expect(v2.schemaId).not.toBe(v1.schemaId);
    const { admin: _dropped, ...rest } = user;
    expect(v2.decode(old)).toStrictEqual({ ...rest, country: 'NL' });
    // A consumer that reads as v1 (its reader) gets v2's messages with v2's extra field dropped.
    const reader = new AvroCodec(userV1, { registry, subject, autoRegister: false, readerSchema: { ...userV1, fields: userV1.fields.map((f) => (f.name === 'admin' ? { ...f, default: false } : f)) } });
    await reader.init();
    expect(reader.decode(v2.encode({ ...rest, country: 'DE' }))).toStrictEqual({ ...rest, admin: false });
  });

  it('throws CodecError naming the subject for bytes without the magic byte', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject });
    for (const bytes of [Buffer.alloc(0), Buffer.from([0, 0, 0]), new AvroCodec(userV1).encode(user), Buffer.from([1, 0, 0, 0, 1, 2])]) {
      let error: unknown;
      try {
        codec.decode(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CodecError);
      expect(error).toMatchObject({ code: 'SNOOPY_CODEC_DECODE', subject });
      expect((error as Error).message).toContain(subject);
    }
  });

  it('throws a retriable CodecError naming the id and subject for an unknown id, then decodes once it is loaded', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject });
    // Written by someone else, under another subject, after this codec was initialised.
    const other = fresh();
    const writer = await AvroCodec.withRegistry(userV2, { registry: new SchemaRegistry({ url: server.url }), subject: other.subject });
    const { admin: _dropped, ...rest } = user;
    const bytes = writer.encode({ ...rest, country: 'FR' });
    const id = writer.schemaId!;
    let error: unknown;
    try {
      codec.decode(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'SNOOPY_CODEC_DECODE', retriable: true, schemaId: id, subject });
    expect((error as Error).message).toContain(`unknown schema id ${id} for subject ${subject}`);
    await codec.preload(id);
    // userV2 dropped `admin`, which userV1 needs and has no default for: resolution fails, by id.
    expect(() => codec.decode(bytes)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_SCHEMA', schemaId: id }));
    const lenient = await AvroCodec.withRegistry({ ...userV1, fields: userV1.fields.map((f) => (f.name === 'admin' ? { ...f, default: false } : f)) }, { registry, subject: fresh().subject });
    expect(() => lenient.decode(bytes)).toThrow(expect.objectContaining({ retriable: true, schemaId: id }));
    await lenient.preload(id);
    expect(lenient.decode(bytes)).toStrictEqual({ ...rest, admin: false });
    // An id the registry does not have.
    const bogus = Buffer.concat([Buffer.from([0, 0x77, 0x35, 0x94, 0x00]), bytes.subarray(5)]);
    expect(() => codec.decode(bogus)).toThrow(/unknown schema id 2000000000/);
    await expect(codec.preload(2_000_000_000)).rejects.toMatchObject({ code: 'SNOOPY_REGISTRY_NOT_FOUND' });
  });

  it('throws CodecError for truncated and trailing bodies, naming id and subject', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject });
    const bytes = codec.encode(user);
    for (let end = 5; end < bytes.length; end++) {
      expect(() => codec.decode(bytes.subarray(0, end))).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE', schemaId: codec.schemaId, subject }));
    }
    expect(() => codec.decode(Buffer.concat([bytes, Buffer.from([1])]))).toThrow(/1 bytes of trailing data/);
  });

  it('refuses to encode before init and fails init for an unregistered schema with autoRegister: false', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { subject } = fresh();
    const codec = new AvroCodec(userV1, { registry, subject });
    expect(() => codec.encode(user)).toThrow(/not initialised: await codec.init\(\)/);
    const strict = new AvroCodec(userV1, { registry, subject, autoRegister: false });
    await expect(strict.init()).rejects.toMatchObject({ code: 'SNOOPY_REGISTRY_NOT_FOUND' });
    await codec.init();
    await expect(strict.init()).resolves.toBe(strict);
    expect(strict.schemaId).toBe(codec.schemaId);
  });
});

describe('Interoperability with @confluentinc/schemaregistry', () => {
  // Confluent's serde has no logical types: timestamp-millis is a number of ms there.
  const confluentUser = { ...user, joined: user.joined.getTime() };

  it('Confluent reads what snoopy writes', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { topic, subject } = fresh();
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject });
    for (const value of [user, { ...user, email: null, tags: [], scores: {}, id: -7 }]) {
      const read = await confluentDeserialize(server.url, topic, codec.encode(value));
      expect(read).toStrictEqual({ ...value, joined: value.joined.getTime() });
    }
  });

  it('snoopy reads what Confluent writes', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { topic, subject } = fresh();
    await registry.register(subject, userV1);
    const bytes = await confluentSerialize(server.url, topic, confluentUser);
    const codec = await AvroCodec.withRegistry(userV1, { registry, subject, autoRegister: false });
    expect(bytes.readUInt32BE(1)).toBe(codec.schemaId);
    expect(codec.decode(bytes)).toStrictEqual(user);
  });

  it('snoopy resolves what Confluent wrote with an older schema version to its reader schema', async () => {
    const registry = new SchemaRegistry({ url: server.url });
    const { topic, subject } = fresh();
    await registry.register(subject, userV1);
    const old = await confluentSerialize(server.url, topic, confluentUser);
    const codec = await AvroCodec.withRegistry(userV2, { registry, subject });
    const { admin: _dropped, ...rest } = user;
    expect(codec.decode(old)).toStrictEqual({ ...rest, country: 'NL' });
  });
});
