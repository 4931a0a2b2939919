// Smoke test: the two decorator modes a user compiles with, each compiled by tsc against the
// built package (packages/core/dist, reached through '@snoopy/core') and run by node.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCore, fixturesDir, runNode, tsc } from './fixtures/build.js';

interface SmokeSummary {
  in: number;
  out: number;
  errors: number;
  reason: string;
  snaps: string[];
}

interface SmokeOutput {
  afterDefine: string[];
  afterFirst: string[];
  afterSecond: string[];
  afterPlain: string[];
  direct: unknown;
  plainAfterDirect: unknown[];
  sunk: Record<string, unknown[]>;
  aliceIsGreeter: boolean;
  summary: SmokeSummary;
  afterStream: string[];
  // standard only
  afterCounter?: string[];
  counterTotal?: number;
  // legacy only
  afterForgotten?: string[];
  className?: string;
  paramTypes?: string[];
  greetParamTypes?: string[];
  inherited?: string[];
}

/** Compiles the fixture into its own `dist/` (inside packages/core, so the self-reference resolves) and runs it. */
async function compileAndRun(name: string): Promise<SmokeOutput> {
  const dir = join(fixturesDir, name);
  await rm(join(dir, 'dist'), { recursive: true, force: true });
  const compiled = await tsc(['-p', dir]);
  expect(compiled.stdout + compiled.stderr, `tsc -p ${name}`).toBe('');
  expect(compiled.code).toBe(0);
  const ran = await runNode([join(dir, 'dist/app.js')], { cwd: dir, timeoutMs: 30_000 });
  expect(ran.code, `node ${name}/dist/app.js\nstderr: ${ran.stderr}`).toBe(0);
  const lines = ran.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as SmokeOutput;
}

beforeAll(buildCore);

describe('TypeScript 5 standard decorators', () => {
  let out: SmokeOutput;
  beforeAll(async () => {
    out = await compileAndRun('decorators-standard');
  });

  it('registers a static method snap when the class is defined, with `this` the class', () => {
    expect(out.afterDefine).toEqual(['Greeter.shout']);
    expect(out.sunk.static).toEqual(['A!', 'B!']);
  });

  it('registers an instance method snap per constructed instance, bound to it', () => {
    expect(out.afterFirst).toEqual(['Greeter.shout', 'Greeter.greet']);
    expect(out.afterSecond).toEqual(['Greeter.shout', 'Greeter.greet', 'Greeter.greet#2']);
    expect(out.aliceIsGreeter).toBe(true);
    // One array bound to both instances' snaps: each item reaches each instance, in order.
    const instance = out.sunk.instance as string[];
    expect(instance.filter((v) => v.startsWith('alice:'))).toEqual(['alice:1', 'alice:2']);
    expect(instance.filter((v) => v.startsWith('bob:'))).toEqual(['bob:1', 'bob:2']);
  });

  it('accepts `@withSnaps` without changing anything', () => {
    expect(out.afterCounter).toEqual(['Greeter.shout', 'Greeter.greet', 'Greeter.greet#2', 'Counter.add']);
    expect((out.sunk.instance as string[]).filter((v) => v.startsWith('total:'))).toEqual(['total:5', 'total:11']);
    expect(out.counterTotal).toBe(11);
  });

  it('wraps a plain function; a direct call runs the handler and its sinks once', () => {
    expect(out.afterPlain.at(-1)).toBe('double');
    expect(out.direct).toEqual([10]);
    expect(out.plainAfterDirect).toEqual([10]);
    expect(out.sunk.plain).toEqual([10, 20, 40]);
  });

  it('stream() runs every registered snap, resolves with a summary and empties the default registry', () => {
    expect(out.summary).toEqual({
      in: 10,
      out: 10,
      errors: 0,
      reason: 'end',
      snaps: ['Greeter.shout', 'Greeter.greet', 'Greeter.greet#2', 'Counter.add', 'double'],
    });
    expect(out.afterStream).toEqual([]);
  });
});

describe('experimentalDecorators with emitDecoratorMetadata', () => {
  let out: SmokeOutput;
  beforeAll(async () => {
    out = await compileAndRun('decorators-legacy');
  });

  it('registers a static method snap when the class is defined, with `this` the class', () => {
    expect(out.afterDefine).toEqual(['Greeter.shout']);
    expect(out.sunk.static).toEqual(['A!', 'B!']);
  });

  it('registers an instance method snap per constructed instance of a `@withSnaps` class, bound to it', () => {
    expect(out.afterFirst).toEqual(['Greeter.shout', 'Greeter.greet']);
    expect(out.afterSecond).toEqual(['Greeter.shout', 'Greeter.greet', 'Greeter.greet#2']);
    const instance = out.sunk.instance as string[];
    expect(instance.filter((v) => v.startsWith('hi alice:'))).toEqual(['hi alice:1', 'hi alice:2']);
    expect(instance.filter((v) => v.startsWith('yo bob:'))).toEqual(['yo bob:1', 'yo bob:2']);
  });

  it('keeps the class name, instanceof and the design-time metadata Nest reads', () => {
    expect(out.className).toBe('Greeter');
    expect(out.aliceIsGreeter).toBe(true);
    expect(out.paramTypes).toEqual(['Salutation', 'String']);
    expect(out.greetParamTypes).toEqual(['Number']);
  });

  it('does not register the instance snaps of a class without `@withSnaps`', () => {
    expect(out.afterForgotten).toEqual(out.afterSecond);
    expect(out.sunk.forgotten).toEqual([]);
    expect(out.summary.snaps).not.toContain('Forgotten.handle');
  });

  // Known core bug (.tmp/core-bugs.md): the base class's `@withSnaps` constructor binds every
  // snap of the instance, then the subclass's binds them all again. Drop `.fails` once fixed.
  it('registers each instance snap once when a `@withSnaps` class extends another', () => {
    expect([...(out.inherited ?? [])].sort()).toEqual(['Worker.base', 'Worker.extra']);
  });

  it('wraps a plain function; a direct call runs the handler and its sinks once', () => {
    expect(out.afterPlain.at(-1)).toBe('double');
    expect(out.direct).toEqual([10]);
    expect(out.plainAfterDirect).toEqual([10]);
    expect(out.sunk.plain).toEqual([10, 20, 40]);
  });

  it('stream() runs every registered snap, resolves with a summary and empties the default registry', () => {
    expect(out.summary).toEqual({
      in: 8,
      out: 8,
      errors: 0,
      reason: 'end',
      snaps: ['Greeter.shout', 'Greeter.greet', 'Greeter.greet#2', 'double'],
    });
    expect(out.afterStream).toEqual([]);
  });
});
