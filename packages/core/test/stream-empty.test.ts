import { describe, expect, it } from 'vitest';
import { Registry, SnoopyError, withSnaps } from '@snoopy/core';

const quiet = { handleSignals: false, progress: false } as const;

async function emptyError(r: Registry): Promise<SnoopyError> {
  const error = await r.stream(quiet).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnoopyError);
  return error as SnoopyError;
}

describe('stream() with no snap registered', () => {
  it('rejects with SNOOPY_STREAM_EMPTY saying how snaps are registered', async () => {
    const r = new Registry();
    const error = await emptyError(r);
    expect(error.code).toBe('SNOOPY_STREAM_EMPTY');
    expect(error.message).toMatch(/no snap to run/);
    expect(error.message).toMatch(/snap\(source/);
  });

  it('names the instance snaps (standard decorators) of a class never instantiated', async () => {
    const r = new Registry();
    const seen: number[] = [];
    class Orders {
      @r.snap([1, 2], { sink: (n: number) => void seen.push(n) })
      handle(n: number): number {
        return n;
      }
    }
    const error = await emptyError(r);
    expect(error.code).toBe('SNOOPY_STREAM_EMPTY');
    expect(error.message).toMatch(/instantiated/);
    expect(error.message).toMatch(/\bhandle\b/);
    // Once an instance exists, the same registry runs the snap.
    new Orders();
    await r.stream(quiet);
    expect(seen).toEqual([1, 2]);
  });

  it('names the class of legacy instance snaps never instantiated, and a missing @withSnaps', async () => {
    const r = new Registry();
    class Billing {
      charge(n: number): number {
        return n;
      }
    }
    // What TypeScript emits for `@r.snap([1]) charge()` under experimentalDecorators.
    const descriptor = Object.getOwnPropertyDescriptor(Billing.prototype, 'charge')!;
    (r.snap([1]) as unknown as (t: object, k: string, d: PropertyDescriptor) => void)(Billing.prototype, 'charge', descriptor);
    let error = await emptyError(r);
    expect(error.code).toBe('SNOOPY_STREAM_EMPTY');
    expect(error.message).toMatch(/Billing\.charge \(its class needs @withSnaps/);

    const Snapped = withSnaps(Billing) as unknown as typeof Billing;
    error = await emptyError(r);
    expect(error.message).toMatch(/Billing\.charge/);
    expect(error.message).not.toMatch(/needs @withSnaps/);
    new Snapped();
    const summary = await r.stream(quiet);
    expect(summary.in).toBe(1);
  });
});
