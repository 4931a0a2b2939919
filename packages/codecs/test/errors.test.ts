import { describe, expect, it } from 'vitest';
import { SnoopyError, errorCodes } from '@snoopy/core';
import { AvroCodec, CodecError, JsonCodec, RegistryError } from '@snoopy/codecs';

describe('codec errors against the table of codes', () => {
  const cases = [
    new CodecError('SNOOPY_CODEC_DECODE', 'json', 'x'),
    new CodecError('SNOOPY_CODEC_ENCODE', 'json', 'x'),
    new CodecError('SNOOPY_CODEC_SCHEMA', 'avro', 'x'),
    new RegistryError('SNOOPY_REGISTRY_REQUEST', 'x'),
    new RegistryError('SNOOPY_REGISTRY_NOT_FOUND', 'x'),
  ];

  it.each(cases.map((error) => [error.name, error.code, error] as const))('%s %s is a SnoopyError with the retriable flag of its code', (name, code, error) => {
    expect(error).toBeInstanceOf(SnoopyError);
    expect(error).toBeInstanceOf(Error);
    expect(Object.keys(errorCodes)).toContain(code);
    expect(error.retriable).toBe(errorCodes[code].retriable);
    expect(error.name).toBe(name);
  });

  it('puts the codec name first in the message and keeps the cause', () => {
    const cause = new Error('inner');
    const error = new CodecError('SNOOPY_CODEC_DECODE', 'avro:User', 'bad bytes', { cause, schemaId: 3, subject: 's' });
    expect(error.message).toBe('avro:User: bad bytes');
    expect(error.cause).toBe(cause);
    expect(error).toMatchObject({ codec: 'avro:User', schemaId: 3, subject: 's', path: undefined });
  });

  it('codecs throw CodecError for user data, never a bare Error', () => {
    const thrown: unknown[] = [];
    const attempts = [
      () => new JsonCodec().decode(Buffer.from('{')),
      () => new AvroCodec('"int"').decode(Buffer.alloc(0)),
      () => new AvroCodec('"int"').encode('1'),
      () => new AvroCodec('{"type":"enum"}'),
    ];
    for (const attempt of attempts) {
      try {
        attempt();
      } catch (error) {
        thrown.push(error);
      }
    }
    expect(thrown).toHaveLength(attempts.length);
    for (const error of thrown) expect(error).toBeInstanceOf(CodecError);
  });
});
