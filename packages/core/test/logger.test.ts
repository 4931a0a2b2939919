import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OptionsError, rootLogger, setRootLogger } from '@snoopy/core';
import { formatPretty, logFormatFromEnv, logLevelFromEnv } from '../src/logger.js';

/** A pino logger writing into an array of parsed lines (and the raw lines). */
function capture(level = 'debug') {
  const raw: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void raw.push(line) });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

afterEach(() => setRootLogger(undefined));

describe('rootLogger', () => {
  it('children made before setRootLogger log through the logger given later', () => {
    const early = rootLogger().child({ component: 'consumer', topic: 'orders' });
    const { logger, lines } = capture();
    setRootLogger(logger);
    early.info({ partitions: [0, 1] }, 'partitions assigned');
    rootLogger().child({ component: 'cache' }).warn('late child');
    expect(lines()).toMatchObject([
      { component: 'consumer', topic: 'orders', partitions: [0, 1], msg: 'partitions assigned', level: 30 },
      { component: 'cache', msg: 'late child', level: 40 },
    ]);
    // And back to another one: the same early child follows again.
    const second = capture();
    setRootLogger(second.logger);
    early.info('again');
    expect(second.lines()).toMatchObject([{ component: 'consumer', msg: 'again' }]);
    expect(lines()).toHaveLength(2);
  });

  it('writes each key once per line when children re-bind a key', () => {
    const { logger, raw, lines } = capture();
    setRootLogger(logger);
    rootLogger().child({ component: 'stream' }).child({ component: 'snap', snap: 'A.b' }).child({ topic: 'in' }).child({ topic: 'out' }).info('hello');
    expect(raw[0]!.match(/"component":/g)).toHaveLength(1);
    expect(raw[0]!.match(/"topic":/g)).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ component: 'snap', snap: 'A.b', topic: 'out' });
  });

  it('follows level changes and isLevelEnabled of the real logger', () => {
    const { logger, lines } = capture('info');
    setRootLogger(logger);
    const child = rootLogger().child({ component: 'x' });
    child.debug('hidden');
    expect(child.isLevelEnabled('debug')).toBe(false);
    logger.level = 'debug';
    setRootLogger(logger); // children rebuild from the root's current level
    child.debug('shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('refuses something that is not a logger', () => {
    expect(() => setRootLogger({} as never)).toThrow(OptionsError);
    expect(() => setRootLogger('debug' as never)).toThrow('setRootLogger: Expected `logger` to be a pino logger, got `"debug"` (string)');
  });
});

describe('SNOOPY_LOG_LEVEL and SNOOPY_LOG_FORMAT', () => {
  it('default to info, and to pretty on a TTY and json otherwise', () => {
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ SNOOPY_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logFormatFromEnv({}, true)).toBe('pretty');
    expect(logFormatFromEnv({}, false)).toBe('json');
    expect(logFormatFromEnv({ SNOOPY_LOG_FORMAT: 'json' }, true)).toBe('json');
  });

  it('a wrong level or format is an OptionsError naming the valid ones', () => {
    expect(() => logLevelFromEnv({ SNOOPY_LOG_LEVEL: 'verbose' })).toThrow(
      'Expected `SNOOPY_LOG_LEVEL` to be one of fatal, error, warn, info, debug, trace, silent, got `"verbose"` (string)',
    );
    expect(() => logFormatFromEnv({ SNOOPY_LOG_FORMAT: 'xml' }, false)).toThrow(/Expected `SNOOPY_LOG_FORMAT` to be one of json, pretty/);
  });

  it('rootLogger() fails with it where the first component is made', async () => {
    const saved = process.env.SNOOPY_LOG_LEVEL;
    process.env.SNOOPY_LOG_LEVEL = 'loud';
    try {
      vi.resetModules();
      const fresh = await import('../src/logger.js');
      expect(() => fresh.rootLogger()).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID', message: expect.stringContaining('got `"loud"`') }));
    } finally {
      if (saved === undefined) delete process.env.SNOOPY_LOG_LEVEL;
      else process.env.SNOOPY_LOG_LEVEL = saved;
    }
  });
});

describe('pretty format', () => {
  it('prints time, level, component and topic, message, then the rest as key=value', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    const line = JSON.stringify({ level: 40, time, pid: 1, hostname: 'h', name: 'snoopy', component: 'consumer', topic: 'orders', partition: 2, note: 'two words', msg: 'commit failed' });
    expect(formatPretty(line)).toBe('03:04:05.006 WARN  consumer orders: commit failed partition=2 note="two words"\n');
  });

  it('shows an error by code and message, its stack only at debug and below', () => {
    const err = { type: 'KafkaError', code: 'SNOOPY_KAFKA_COMMIT', message: 'broker down', stack: 'KafkaError: broker down\n    at x' };
    expect(formatPretty(JSON.stringify({ level: 40, time: 0, msg: 'retrying', err }))).toMatch(/WARN  retrying SNOOPY_KAFKA_COMMIT: broker down\n$/);
    expect(formatPretty(JSON.stringify({ level: 20, time: 0, msg: 'retrying', err }))).toContain('\n    at x');
    expect(formatPretty('not json')).toBe('not json\n');
  });
});
