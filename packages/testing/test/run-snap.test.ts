import { SnapError } from '@snoopy/core';
import { describe, expect, it } from 'vitest';
import { FakeClock, MemoryTopic, runSnap, type MemoryMessage } from '@snoopy/testing';

describe('runSnap', () => {
  it('returns what the handler sent and the summary', async () => {
    const run = await runSnap((n: number) => (n % 2 === 0 ? n * 10 : undefined), [1, 2, 3, 4]);
    expect(run.outputs).toEqual([20, 40]);
    expect(run.deadLetters).toEqual([]);
    expect(run.summary).toMatchObject({ in: 4, out: 2, errors: 0, reason: 'end' });
  });

  it('collects messages that fail as dead letters, with the error and attempts', async () => {
    const run = await runSnap(
      (n: number) => {
        if (n === 3) throw new Error('three');
        return n;
      },
      [1, 2, 3, 4],
      { errors: { retry: { attempts: 2, backoffMs: 1 } } },
    );
    expect(run.outputs).toEqual([1, 2, 4]);
    expect(run.deadLetters.map((l) => [l.message, l.attempts, l.error.code])).toEqual([[3, 2, 'SNOOPY_SNAP_HANDLER']]);
    expect(run.deadLetters[0]!.error).toBeInstanceOf(SnapError);
  });

  it("rejects with the SnapError under errors: 'stop'", async () => {
    await expect(runSnap(() => { throw new Error('no'); }, [1], { errors: 'stop' })).rejects.toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
  });

  it('sends generator output and takes extra sinks such as a MemoryTopic', async () => {
    const out = MemoryTopic<string>('words');
    const run = await runSnap(function* (line: string) { yield* line.split(' '); }, ['a b', 'c'], { sink: out });
    expect(run.outputs).toEqual(['a', 'b', 'c']);
    expect(out.values()).toEqual(['a', 'b', 'c']);
  });

  it('reads a MemoryTopic with keys and commits it', async () => {
    const topic = MemoryTopic<{ total: number }>('orders', { partitions: 2 });
    await topic(['ann', { total: 5 }]);
    await topic(['bob', { total: 7 }]);
    const run = await runSnap((m: MemoryMessage<{ total: number }>) => `${m.key}:${m.value.total}`, topic);
    expect(run.outputs.sort()).toEqual(['ann:5', 'bob:7']);
    expect(topic.commits.length).toBeGreaterThan(0);
    for (const p of [0, 1]) expect(topic.committed(p) ?? 0).toBe(topic.end(p));
  });

  it('on fake time, retry backoffs of minutes take no real time and the clock shows them', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const run = await runSnap(
      (n: number) => {
        calls += 1;
        if (calls < 3) throw new Error('flaky');
        return n;
      },
      [7],
      { errors: { retry: { attempts: 3, backoffMs: 60_000 } }, fakeTime: clock },
    );
    expect(run.outputs).toEqual([7]);
    expect(calls).toBe(3);
    // Backoff doubles: 60 s, then 120 s.
    expect(clock.now).toBeGreaterThanOrEqual(180_000);
    expect(clock.installed).toBe(false);
  });

  it('on fake time, a batch waits its ms for more messages before it goes out short', async () => {
    const clock = new FakeClock();
    async function* slow(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      await new Promise((r) => setTimeout(r, 10_000)); // fake: fires when nothing else is left
      yield 3;
    }
    const run = await runSnap((batch: number[]) => batch.join('+'), slow(), { batch: { size: 5, ms: 5_000 }, fakeTime: clock });
    expect(run.outputs).toEqual(['1+2', '3']);
  });

  it('refuses unknown options and a non-function handler', async () => {
    await expect(runSnap((n: number) => n, [1], { sinks: [] } as never)).rejects.toThrow(/Unknown option `sinks`/);
    await expect(runSnap(42 as never, [1])).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
  });
});

describe('FakeClock', () => {
  it('fires timeouts and intervals in order as time advances, and puts the real timers back', async () => {
    const realSetTimeout = globalThis.setTimeout;
    const fired: string[] = [];
    {
      using clock = new FakeClock(1_000).install();
      setTimeout(() => fired.push('b@300'), 300);
      const cancelled = setTimeout(() => fired.push('never'), 100);
      setTimeout(() => fired.push('a@200'), 200);
      const every = setInterval(() => fired.push(`tick@${Date.now() - 1_000}`), 250);
      clearTimeout(cancelled);
      await clock.advance(299);
      expect(fired).toEqual(['a@200', 'tick@250']);
      await clock.advance(300);
      clearInterval(every);
      await clock.advance(10_000);
      expect(fired).toEqual(['a@200', 'tick@250', 'b@300', 'tick@500']);
      expect(Date.now()).toBe(1_000 + 10_599);
      expect(clock.pending).toBe(0);
      expect(await clock.next()).toBe(false);
    }
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    expect(Math.abs(Date.now() - new Date().getTime())).toBeLessThan(1_000);
  });

  it('lets promise callbacks run between timers', async () => {
    using clock = new FakeClock().install();
    const order: string[] = [];
    setTimeout(() => { void Promise.resolve().then(() => order.push('after first')); order.push('first'); }, 10);
    setTimeout(() => order.push('second'), 10);
    await clock.advance(10);
    expect(order).toEqual(['first', 'after first', 'second']);
  });

  it('moves performance.now() with it, and puts the real one back', async () => {
    {
      using clock = new FakeClock().install();
      const before = performance.now();
      await clock.advance(1_500);
      expect(performance.now() - before).toBeCloseTo(1_500, 6); // floating point: base + now
    }
    const a = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(performance.now()).toBeGreaterThan(a);
  });

  it('refuses a negative advance', async () => {
    using clock = new FakeClock().install();
    await expect(clock.advance(-1)).rejects.toThrow('FakeClock.advance: Expected `ms` to be a number >= 0, got `-1` (number)');
  });
});
