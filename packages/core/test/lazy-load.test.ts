import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// pino is CommonJS: once loaded (by `require` or by an import), its files are in the require cache.
const require = createRequire(import.meta.url);
const pinoLoaded = (): boolean => Object.keys(require.cache).some((file) => /[\\/]pino[\\/]pino\.js$/.test(file));

describe('start-up cost', () => {
  it('importing @snoopy/core, making loggers and calls below the level do not load pino; anything else asked of a logger does', async () => {
    // This file imports nothing of pino itself and runs in its own process (pool: forks).
    expect(pinoLoaded(), 'pino was loaded before the test began').toBe(false);
    const saved = process.env.SNOOPY_LOG_LEVEL;
    process.env.SNOOPY_LOG_LEVEL = 'silent';
    try {
      const { rootLogger } = await import('@snoopy/core');
      expect(pinoLoaded(), 'importing @snoopy/core loaded pino').toBe(false);
      const logger = rootLogger().child({ component: 'lazy' });
      const chatty = logger.child({ snap: 's' }, { level: 'debug' });
      logger.error('not written: the level is silent');
      expect(logger.isLevelEnabled('fatal')).toBe(false);
      expect(chatty.isLevelEnabled('debug')).toBe(true);
      expect(chatty.isLevelEnabled('trace')).toBe(false);
      expect([logger.level, chatty.level]).toEqual(['silent', 'debug']);
      expect(pinoLoaded(), 'a logger that wrote nothing loaded pino').toBe(false);
      // Anything else asked of a logger makes the real one, with the bindings of every child.
      expect(chatty.bindings()).toEqual({ name: 'snoopy', component: 'lazy', snap: 's' });
      expect(pinoLoaded()).toBe(true);
      expect(logger.isLevelEnabled('fatal')).toBe(false);
      expect(chatty.isLevelEnabled('debug')).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.SNOOPY_LOG_LEVEL;
      else process.env.SNOOPY_LOG_LEVEL = saved;
    }
  });
});

describe('reflect-metadata', () => {
  it('importing @snoopy/core installs Reflect.getMetadata and friends without loading the polyfill; the first call loads it', async () => {
    const polyfillLoaded = (): boolean => Object.keys(require.cache).some((file) => /[\\/]reflect-metadata[\\/]Reflect\.js$/.test(file));
    expect(polyfillLoaded(), 'reflect-metadata was loaded before the test began').toBe(false);
    await import('@snoopy/core');
    const reflect = Reflect as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const key of ['decorate', 'metadata', 'defineMetadata', 'getMetadata', 'getOwnMetadata', 'hasMetadata', 'getMetadataKeys']) {
      expect(typeof reflect[key], key).toBe('function');
    }
    const early = reflect.getMetadata!; // taken before the polyfill loads, as a library may
    expect(polyfillLoaded(), 'importing @snoopy/core loaded reflect-metadata').toBe(false);
    class Base {}
    class Derived extends Base {}
    reflect.decorate!([reflect.metadata!('design:paramtypes', [String, Number])], Base);
    expect(polyfillLoaded()).toBe(true);
    expect(reflect.getMetadata!('design:paramtypes', Derived)).toEqual([String, Number]);
    expect(early('design:paramtypes', Base)).toEqual([String, Number]);
    expect(reflect.getOwnMetadata!('design:paramtypes', Derived)).toBeUndefined();
  });
});
