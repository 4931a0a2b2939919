import { describe, expect, it } from 'vitest';
import { OptionsError, Registry, errorCodes, SnoopyError, SnapError, ClosedError, AbortError, TimeoutError } from '@snoopy/core';

describe('snap options are validated when snap is called', () => {
  const r = new Registry();
  const cases: [string, () => unknown, string][] = [
    ['concurrency 0', () => r.snap([1], { concurrency: 0 }), 'Expected `concurrency` to be an integer >= 1, got `0` (number)'],
    ['concurrency 1.5', () => r.snap([1], { concurrency: 1.5 }), 'Expected `concurrency` to be an integer >= 1, got `1.5` (number)'],
    ['sink not a function', () => r.snap([1], { sink: ['x' as never] }), 'Expected `sink[0]` to be a function or a deferred sink (Topic, Cache), got `"x"` (string)'],
    ['batch size', () => r.snap([1], { batch: { size: -1 } }), 'Expected `batch.size` to be an integer >= 1, got `-1` (number)'],
    ['errors', () => r.snap([1], { errors: 'ignore' as never }), "Expected `errors` to be 'stop', 'skip' or { retry, deadLetter }, got `\"ignore\"` (string)"],
    ['retry attempts', () => r.snap([1], { errors: { retry: { attempts: 0 } } }), 'Expected `errors.retry.attempts` to be an integer >= 1, got `0` (number)'],
    ['unknown option', () => r.snap([1], { concurency: 2 } as never), 'Expected `concurency` to be absent'],
    ['no source', () => r.snap(), 'Expected at least one source'],
    ['source not iterable', () => r.snap([1], 42 as never), 'Expected `sources[1]` to be an Iterable or AsyncIterable, got `42` (number)'],
  ];
  for (const [name, call, message] of cases) {
    it(`rejects ${name}`, () => {
      let caught: unknown;
      try {
        call();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(OptionsError);
      expect(caught).toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
      expect((caught as Error).message).toContain(message);
    });
  }

  it('names the snap in the message when it has a name', () => {
    expect(() => r.snap([1], { name: 'orders', concurrency: 0 })).toThrow('snap orders: Expected `concurrency`');
  });

  it('validates stream options', async () => {
    await expect(r.stream({ closeTimeoutMs: -1 })).rejects.toThrow('Expected `closeTimeoutMs` to be an integer >= 0, got `-1` (number)');
    expect(r.definitions).toHaveLength(0);
  });
});

describe('the error table', () => {
  it('every core error class carries a code from the table and its retriable flag', () => {
    const errors: SnoopyError[] = [
      new OptionsError('x'),
      new ClosedError('Cache /tmp/x'),
      new AbortError('wait'),
      new TimeoutError('wait', 5),
      new SnapError('SNOOPY_SNAP_HANDLER', 's', new Error('e')),
      new SnapError('SNOOPY_SNAP_SINK', 's', new Error('e')),
      new SnapError('SNOOPY_SOURCE_FAILED', 's', new Error('e')),
      new SnapError('SNOOPY_SOURCE_ITEM', 's', new Error('e')),
    ];
    for (const e of errors) {
      expect(errorCodes).toHaveProperty(e.code);
      expect(e.retriable).toBe(errorCodes[e.code].retriable);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).not.toBe('Error');
    }
    expect(new ClosedError('Cache /tmp/x').code).toBe('SNOOPY_CLOSED');
    expect(new TimeoutError('wait', 5).code).toBe('SNOOPY_TIMEOUT');
  });

  it('every code is named SNOOPY_<AREA>_<WHAT> and has a summary', () => {
    for (const [code, entry] of Object.entries(errorCodes)) {
      expect(code).toMatch(/^SNOOPY_[A-Z]+(_[A-Z]+)*$/);
      expect(entry.summary.length).toBeGreaterThan(10);
    }
  });

  it('puts where a message failed into the error message', () => {
    const e = new SnapError('SNOOPY_SNAP_HANDLER', 'orders', new Error('boom'), { topic: 'in', partition: 3, offset: 42 });
    expect(e.message).toBe('Snap orders: handler failed: boom (snap orders, topic in, partition 3, offset 42)');
    expect(e.location).toEqual({ topic: 'in', partition: 3, offset: 42, snap: 'orders' });
  });
});
