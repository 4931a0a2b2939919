import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// avsc is CommonJS: once loaded (by `require` or by an import), its files are in the require cache.
const require = createRequire(import.meta.url);
const avscLoaded = (): boolean => Object.keys(require.cache).some((file) => /[\\/]avsc[\\/]lib[\\/]/.test(file));

describe('start-up cost', () => {
  it('importing @snoopy/codecs does not load avsc; the first AvroCodec does, and works', async () => {
    // This file imports nothing of avsc itself and runs in its own process (pool: forks).
    expect(avscLoaded(), 'avsc was loaded before the test began').toBe(false);
    const { AvroCodec, JsonCodec, StringCodec } = await import('@snoopy/codecs');
    expect(new JsonCodec().decode(new JsonCodec().encode({ a: 1 }))).toEqual({ a: 1 });
    expect(new StringCodec().decode(Buffer.from('x'))).toBe('x');
    expect(avscLoaded(), 'importing @snoopy/codecs (and using JSON and string codecs) loaded avsc').toBe(false);
    const codec = new AvroCodec({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'n', type: 'long' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'm', type: { type: 'map', values: 'int' } },
      ],
    });
    expect(avscLoaded()).toBe(true);
    const value = { n: 2n ** 60n, at: new Date(0), m: { ['__proto__']: 1 } };
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });
});
