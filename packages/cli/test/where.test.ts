import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/command.js';
import { compileWhere, type Record } from '../src/internal/where.js';

const msg = (value: unknown, extra: Partial<Record> = {}): Record => ({ key: 'k1', value, partition: 0, offset: 7, timestamp: 1000, headers: { origin: 'web' }, ...extra });

describe('--where', () => {
  it('compares fields of the value, numerically when both sides are numbers', () => {
    expect(compileWhere(['total>100'])(msg({ total: 150 }))).toBe(true);
    expect(compileWhere(['total>100'])(msg({ total: 99 }))).toBe(false);
    expect(compileWhere(['total>=99'])(msg({ total: 99 }))).toBe(true);
    expect(compileWhere(['total<100'])(msg({ total: 20 }))).toBe(true); // 20 < 100 numerically, not as text
    expect(compileWhere(['id=3'])(msg({ id: 3 }))).toBe(true);
    expect(compileWhere(['id=3'])(msg({ id: '3' }))).toBe(true);
    expect(compileWhere(['id!=3'])(msg({ id: 4 }))).toBe(true);
  });

  it('reads nested paths, the key, headers and coordinates', () => {
    expect(compileWhere(['customer.country=DE'])(msg({ customer: { country: 'DE' } }))).toBe(true);
    expect(compileWhere(['value.customer.country=FR'])(msg({ customer: { country: 'DE' } }))).toBe(false);
    expect(compileWhere(['key=k1'])(msg({}))).toBe(true);
    expect(compileWhere(['headers.origin=web'])(msg({}))).toBe(true);
    expect(compileWhere(['offset>=7', 'partition=0'])(msg({}))).toBe(true);
    expect(compileWhere(['offset>7'])(msg({}))).toBe(false);
  });

  it('matches regular expressions against the text of a field', () => {
    expect(compileWhere(['email~@example\\.com$'])(msg({ email: 'a@example.com' }))).toBe(true);
    expect(compileWhere(['email~@example\\.com$'])(msg({ email: 'a@example.org' }))).toBe(false);
  });

  it('a missing field only satisfies !=', () => {
    expect(compileWhere(['nope=1'])(msg({ id: 1 }))).toBe(false);
    expect(compileWhere(['nope!=1'])(msg({ id: 1 }))).toBe(true);
    expect(compileWhere(['id=1'])(msg(null))).toBe(false);
  });

  it('refuses a filter without an operator or with a bad pattern', () => {
    expect(() => compileWhere(['total'])).toThrow(UsageError);
    expect(() => compileWhere(['=3'])).toThrow(/Expected `--where`/);
    expect(() => compileWhere(['a~('])).toThrow(UsageError);
  });
});
