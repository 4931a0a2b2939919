import { OptionsError, describeValue } from '@snoopy/core';

// The real ones, taken before any clock is installed.
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

type Callback = (...args: unknown[]) => void;

/** What the fake `setTimeout` returns: a Node `Timeout` look-alike. */
class FakeTimer {
  constructor(
    readonly id: number,
    readonly clock: FakeClock,
  ) {}
  ref(): this { return this; }
  unref(): this { return this; }
  hasRef(): boolean { return true; }
  refresh(): this { this.clock.refresh(this.id); return this; }
  [Symbol.toPrimitive](): number { return this.id; }
}

interface Scheduled {
  readonly id: number;
  at: number;
  readonly every: number | undefined;
  readonly callback: Callback;
  readonly args: unknown[];
  readonly timer: FakeTimer;
}

/** Lets promise callbacks and `setImmediate` work run: a few real turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
}

/** A real wait, whatever clock is installed. */
export function realDelay(ms: number): Promise<void> {
  return new Promise<void>((resolve) => realSetTimeout(resolve, ms));
}

/**
 * Fake time for batches, retries and backoffs: once installed, `setTimeout`, `setInterval`,
 * their `clear*`, `Date.now` and `performance.now` follow this clock, which moves only when told (`advance(ms)`,
 * `next()`). Promise callbacks and `setImmediate` stay real, and run between timers.
 * `using clock = new FakeClock().install()` uninstalls it at the end of the scope.
 */
export class FakeClock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Scheduled>();
  #saved:
    | { setTimeout: unknown; clearTimeout: unknown; setInterval: unknown; clearInterval: unknown; dateNow: () => number; perfNow: PropertyDescriptor | undefined }
    | undefined;

  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) throw new OptionsError(`FakeClock: Expected \`start\` to be a finite number, got ${describeValue(start)}`);
    this.#now = start;
  }

  /** The clock's time in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  get installed(): boolean {
    return this.#saved !== undefined;
  }

  install(): this {
    if (this.#saved) return this;
    const g = globalThis as unknown as Record<string, unknown>;
    this.#saved = {
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      setInterval: g.setInterval,
      clearInterval: g.clearInterval,
      dateNow: Date.now,
      perfNow: Object.getOwnPropertyDescriptor(performance, 'now'),
    };
    g.setTimeout = (callback: Callback, ms?: number, ...args: unknown[]) => this.#schedule(callback, ms, undefined, args);
    g.setInterval = (callback: Callback, ms?: number, ...args: unknown[]) => this.#schedule(callback, ms, Math.max(1, Number(ms) || 0), args);
    g.clearTimeout = g.clearInterval = (timer: unknown) => {
      if (timer !== undefined && timer !== null) this.#timers.delete(Number(timer));
    };
    Date.now = () => this.#now;
    // Elapsed-time checks (performance.now()) move with the clock too, from where real time was.
    const base = performance.now() - this.#now;
    Object.defineProperty(performance, 'now', { value: () => base + this.#now, configurable: true, writable: true });
    return this;
  }

  uninstall(): void {
    const saved = this.#saved;
    if (!saved) return;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = saved.setTimeout;
    g.clearTimeout = saved.clearTimeout;
    g.setInterval = saved.setInterval;
    g.clearInterval = saved.clearInterval;
    Date.now = saved.dateNow;
    if (saved.perfNow) Object.defineProperty(performance, 'now', saved.perfNow);
    else delete (performance as unknown as Record<string, unknown>).now;
    this.#saved = undefined;
    this.#timers.clear();
  }

  [Symbol.dispose](): void {
    this.uninstall();
  }

  /** @internal `timer.refresh()`: starts its wait again from now. */
  refresh(id: number): void {
    const t = this.#timers.get(id);
    if (t) t.at = this.#now + Math.max(0, t.every ?? 0);
  }

  #schedule(callback: Callback, ms: number | undefined, every: number | undefined, args: unknown[]): FakeTimer {
    const id = this.#nextId++;
    const timer = new FakeTimer(id, this);
    this.#timers.set(id, { id, at: this.#now + Math.max(0, Number(ms) || 0), every, callback, args, timer });
    return timer;
  }

  #due(until: number): Scheduled | undefined {
    let first: Scheduled | undefined;
    for (const t of this.#timers.values()) if (t.at <= until && (!first || t.at < first.at || (t.at === first.at && t.id < first.id))) first = t;
    return first;
  }

  #fire(t: Scheduled): void {
    this.#now = Math.max(this.#now, t.at);
    if (t.every === undefined) this.#timers.delete(t.id);
    else t.at = this.#now + t.every;
    t.callback(...t.args);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0)) throw new OptionsError(`FakeClock.advance: Expected \`ms\` to be a number >= 0, got ${describeValue(ms)}`);
    const until = this.#now + ms;
    await settle();
    for (let t = this.#due(until); t; t = this.#due(until)) {
      this.#fire(t);
      await settle();
    }
    this.#now = until;
  }

  /** Jumps to the next timer and fires it (and any due at the same time); false when there is none. */
  async next(): Promise<boolean> {
    const t = this.#due(Infinity);
    if (!t) return false;
    await this.advance(t.at - this.#now);
    return true;
  }
}
