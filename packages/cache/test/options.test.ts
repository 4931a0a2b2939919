import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cache, resolveCacheOptions } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('Cache options', () => {
  it('refuses unknown and misspelt keys, naming the cache path and the known options', () => {
    const path = join(tempDir(), 'db');
    const misspelt = () => new Cache(path, { batchsize: 5, highwatermark: 1 } as never);
    expect(misspelt).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(misspelt).toThrow(`Cache ${path}: Expected \`batchsize\` to be absent (did you mean \`batchSize\`?)`);
    expect(misspelt).toThrow('known options: codec, sync, batchSize, highWaterMark, sweepInterval, clock');
    expect(() => new Cache(path, { ttl: 5 } as never)).toThrow(`Cache ${path}: Expected \`ttl\` to be absent (known options:`);
  });

  it('names the path in every option error', () => {
    const path = join(tempDir(), 'db');
    expect(() => new Cache(path, { batchSize: 0 })).toThrow(`Cache ${path}: Expected \`batchSize\` to be an integer >= 1, got \`0\` (number)`);
    expect(() => new Cache(path, { sync: 'yes' as never })).toThrow(`Cache ${path}: Expected \`sync\` to be a boolean`);
    expect(() => new Cache(path, { clock: 5 as never })).toThrow(`Cache ${path}: Expected \`clock\` to be a function`);
    expect(() => new Cache(path, { codec: {} as never })).toThrow(`Cache ${path}: Expected \`codec\` to be a codec`);
    expect(() => new Cache(path, [] as never)).toThrow(`Cache ${path}: Expected cache options to be an object`);
  });

  it('resolves to frozen defaults', () => {
    const resolved = resolveCacheOptions({});
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved).toMatchObject({ sync: false, batchSize: 10_000, highWaterMark: 100_000, sweepInterval: 60_000 });
  });

  it('claims no item count as a source (it is callable, but not a list)', async () => {
    const cache = new Cache(join(tempDir(), 'db'));
    try {
      // Core's progress reads `length`/`size` as a source's item count; a function's arity is not one.
      expect((cache as unknown as { length: unknown }).length).toBeUndefined();
      expect((cache as unknown as { size: unknown }).size).toBeUndefined();
      expect(typeof cache).toBe('function');
    } finally {
      await cache.close();
    }
  });
});
