// Per-message failures log one warn line (code and coordinates, no stack); the full error is at
// debug; the final error is thrown once, not logged. Messages do not repeat their causes.
import { pino } from 'pino';
import { describe as suite, expect, it } from 'vitest';
import { Registry, SnapError, SnoopyError, describe, type MessageMeta } from '@snoopy/core';

function recording(level = 'debug'): { logger: pino.Logger; lines: () => Record<string, any>[] } {
  const raw: string[] = [];
  const logger = pino({ level }, { write: (l: string) => void raw.push(l) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, any>) };
}

/** Messages with Kafka-like coordinates, described through core's `[describe]` protocol. */
function located(values: number[]): Iterable<number> & { [describe](n: number): MessageMeta } {
  return {
    [describe]: (n: number) => ({ topic: 'orders', partition: 2, offset: 100 + n, key: `k${n}` }),
    [Symbol.iterator]: () => values[Symbol.iterator](),
  };
}

suite('per-message failures in the logs', () => {
  it('a retried then skipped message: one warn line per retry and one for the skip, code and coordinates, stack only at debug', async () => {
    const { logger, lines } = recording();
    const r = new Registry();
    r.snap(located([1, 2]), { name: 'billing', errors: 'skip' })((n: number) => {
      if (n === 2) throw new Error('card declined');
      return n;
    });
    r.snap(located([7]), { name: 'retrying', errors: { retry: { attempts: 3, backoffMs: 1 } }, sink: () => {} })((() => {
      let calls = 0;
      return (n: number) => {
        if (++calls < 3) throw new Error('flaky');
        return n;
      };
    })());
    const summary = await r.stream({ logger, handleSignals: false, progress: false, progressIntervalMs: false });
    expect(summary.snaps.billing).toMatchObject({ skipped: 1, errors: 1 });
    expect(summary.snaps.retrying).toMatchObject({ retries: 2, errors: 0, out: 1 });

    const warns = lines().filter((l) => l.level === 40);
    expect(warns).toHaveLength(3);
    for (const w of warns) {
      expect(w).not.toHaveProperty('err');
      expect(JSON.stringify(w)).not.toMatch(/\n\s+at /);
      expect(w).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', topic: 'orders', partition: 2 });
    }
    expect(warns.filter((w) => w.snap === 'retrying').map((w) => [w.offset, w.attempt, w.error])).toEqual([
      [107, 1, 'flaky'],
      [107, 2, 'flaky'],
    ]);
    const skip = warns.find((w) => w.snap === 'billing')!;
    expect(skip).toMatchObject({ offset: 102, msg: 'message skipped after error' });
    // The stack is at debug, once per warn line.
    const debugs = lines().filter((l) => l.level === 20 && l.err !== undefined);
    expect(debugs).toHaveLength(3);
    expect(debugs.every((d) => typeof d.err.stack === 'string' && d.err.stack.includes('    at '))).toBe(true);
  });

  it('the final error is thrown once and not logged; its message names each cause once, coordinates once', async () => {
    const { logger, lines } = recording();
    const r = new Registry();
    const sink = (): never => {
      throw new SnoopyError('SNOOPY_TIMEOUT', 'broker transport failure: broker transport failure', { location: { topic: 'out', partition: 0 } });
    };
    r.snap(located([5]), { name: 'forward', sink })((n: number) => n);
    const error = (await r.stream({ logger, handleSignals: false, progress: false, progressIntervalMs: false }).catch((e: unknown) => e)) as SnapError;
    expect(error).toBeInstanceOf(SnapError);
    expect(error.code).toBe('SNOOPY_SNAP_SINK');
    expect(error.message).toBe('Snap forward: sink failed: broker transport failure (snap forward, topic orders, partition 2, offset 105)');
    expect(error.location).toMatchObject({ snap: 'forward', topic: 'orders', partition: 2, offset: 105 });
    expect((error.cause as Error).message).toBe('broker transport failure (topic out, partition 0)');
    expect(lines().filter((l) => l.level >= 40)).toEqual([]);
  });

  it('coordinates the runner does not know come from the cause', async () => {
    const r = new Registry();
    r.snap([1], { name: 'plain' })(() => {
      throw new SnoopyError('SNOOPY_SOURCE_ITEM', 'Decode failed: decode failed', { location: { topic: 'raw', partition: 3, offset: 9 } });
    });
    const error = (await r.stream({ logger: pino({ level: 'silent' }), handleSignals: false, progress: false, progressIntervalMs: false }).catch((e: unknown) => e)) as SnapError;
    expect(error.message).toBe('Snap plain: handler failed: Decode failed (snap plain, topic raw, partition 3, offset 9)');
    expect(error.location).toEqual({ snap: 'plain', topic: 'raw', partition: 3, offset: 9 });
  });
});
