import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// pino is CommonJS: once loaded (by `require` or by an import), its files are in the require cache.
const require = createRequire(import.meta.url);
const pinoLoaded = (): boolean => Object.keys(require.cache).some((file) => /[\\/]pino[\\/]pino\.js$/.test(file));

describe('start-up cost', () => {
  it('importing @snoopy/core does not load pino; the first default logger does, and logs', async () => {
    // This file imports nothing of pino itself and runs in its own process (pool: forks).
    expect(pinoLoaded(), 'pino was loaded before the test began').toBe(false);
    const { rootLogger } = await import('@snoopy/core');
    expect(pinoLoaded(), 'importing @snoopy/core loaded pino').toBe(false);
    const logger = rootLogger().child({ component: 'lazy' });
    expect(pinoLoaded()).toBe(true);
    expect(typeof logger.info).toBe('function');
    expect(logger.isLevelEnabled('fatal')).toBe(true);
  });
});
