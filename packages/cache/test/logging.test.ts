import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassicLevel } from 'classic-level';
import { setRootLogger, type Logger } from '@snoopy/core';
import { Cache, CacheLockedError } from '../src/index.js';
import { tempDir } from './helpers.js';

const levels = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A root logger that records every line (level, bindings, message) in `lines`. */
function recordingLogger(lines: Array<{ level: number; msg: string }>): Logger {
  const make = (): Logger => {
    const logger: Record<string, unknown> = { level: 'trace', child: () => make() };
    for (const [name, level] of Object.entries(levels)) {
      logger[name] = (a: unknown, b?: unknown) => lines.push({ level, msg: String(typeof a === 'string' ? a : b) });
    }
    return logger as unknown as Logger;
  };
  return make();
}

describe('Cache logging', () => {
  // Back to the default root logger (SNOOPY_LOG_LEVEL, silent in these tests).
  afterEach(() => setRootLogger(undefined as never));

  it('a locked cache is thrown to the caller and logged at debug only, not also at error', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    setRootLogger(recordingLogger(lines));
    const path = join(tempDir(), 'db');
    // Another LevelDB handle holds the directory's LOCK, as another process would.
    const holder = new ClassicLevel(path);
    await holder.open();
    try {
      const error = await Cache.open(path).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(CacheLockedError);
      expect((error as CacheLockedError).code).toBe('SNOOPY_CACHE_LOCKED');
      const loud = lines.filter((l) => l.level > levels.debug);
      expect(loud, JSON.stringify(loud)).toEqual([]);
      expect(lines).toContainEqual({ level: levels.debug, msg: 'cache open failed' });
    } finally {
      await holder.close();
    }
  });
});
