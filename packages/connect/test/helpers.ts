import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

// The root logger reads this when the first component creates its child logger.
process.env.SNOOPY_LOG_LEVEL ??= 'silent';

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (generous: the machine is shared). */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending promise callbacks and timers of 0 ms run. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** A promise the test opens by hand. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Whether a promise has settled yet (after letting callbacks run). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  await settle();
  return settled;
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-connect-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An error a writer or source treats as final. */
export function permanent(message: string): Error {
  return Object.assign(new Error(message), { retriable: false });
}
