// Typed snaps: the type tests in fixtures/types/src/*.test-d.ts are compiled by the real tsc.
// A case that must not compile carries `// @ts-expect-error`, which tsc reports as unused if the
// case compiles after all; so a type that stopped catching a mistake fails here, as does one that
// refuses a valid handler.
import { describe, expect, it } from 'vitest';
import { tsc } from './fixtures/build.js';

const dir = 'packages/core/test/fixtures/types';
// tsc on a loaded 2-core machine: generous.
const timeoutMs = 300_000;

describe('typed snaps (tsc on type-test fixtures)', () => {
  it('standard decorators and the function form: handlers checked against sources and sinks', { timeout: timeoutMs + 10_000 }, async () => {
    const compiled = await tsc(['-p', `${dir}/tsconfig.json`], timeoutMs);
    expect(compiled.stdout + compiled.stderr, 'tsc -p tsconfig.json').toBe('');
    expect(compiled.code).toBe(0);
  });

  it('legacy decorators (experimentalDecorators): the same checks', { timeout: timeoutMs + 10_000 }, async () => {
    const compiled = await tsc(['-p', `${dir}/tsconfig.legacy.json`], timeoutMs);
    expect(compiled.stdout + compiled.stderr, 'tsc -p tsconfig.legacy.json').toBe('');
    expect(compiled.code).toBe(0);
  });
});
