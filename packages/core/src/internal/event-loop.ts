/**
 * Yielding to the event loop, in one place. A pump over a source that answers at once (an array,
 * a sync generator, an async source reading from a buffer) runs through microtasks only, which
 * would starve timers (batch, retry, progress), signals, I/O and delivery reports; so every few
 * thousand items it lets the event loop run once.
 */

/** Items between two yields when the source is synchronous (arrays, generators): mask of 4096. */
export const syncYieldMask = 4095;

/**
 * Items between two yields when the source is asynchronous: each `await it.next()` already lets
 * other microtasks run, only macrotasks need the turn, so less often (mask of 16384).
 */
export const asyncYieldMask = 16383;

/** Resolves after the event loop ran once (timers, I/O, signals). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
