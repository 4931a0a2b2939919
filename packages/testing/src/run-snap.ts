import { OptionsError, Registry, describeValue, type DeadLetter, type Sink, type SnapOptions, type Source, type StreamSummary } from '@snoopy/core';
import { FakeClock, realDelay, settle } from './fake-clock.js';

export interface RunSnapOptions extends Omit<SnapOptions, 'sink' | 'errors'> {
  /** More sinks, after the one that collects `outputs` (a MemoryTopic, a function). @default [] */
  readonly sink?: Sink | readonly Sink[];
  /**
   * What happens to a message that fails: by default it is retried as `retry` says (once in all
   * unless given) and then collected in `deadLetters`. `'skip'` drops it, `'stop'` makes
   * `runSnap` reject with the `SnapError`. @default { retry: { attempts: 1 } }
   */
  readonly errors?: 'stop' | 'skip' | { readonly retry?: { readonly attempts?: number; readonly backoffMs?: number } };
  /**
   * Run on fake time: timers (batch waits, retry backoffs) fire as soon as nothing else is left
   * to do, so a test of a 30 s backoff takes no time. `true` makes a clock for this run; pass a
   * `FakeClock` to read `clock.now` afterwards. Handlers and sinks must not wait on real I/O
   * meanwhile. @default false
   */
  readonly fakeTime?: boolean | FakeClock;
  /** Stops the run early, as `stream({ signal })` does. */
  readonly signal?: AbortSignal;
}

/** What `runSnap` returns. */
export interface SnapRun<O> {
  /** Every value the handler sent to its sinks, in the order the sinks received them. */
  readonly outputs: O[];
  /** Messages that failed every attempt, with their error (a `SnapError`) and attempts. */
  readonly deadLetters: DeadLetter[];
  /** `stream()`'s summary: in, out, errors, per-snap counters. */
  readonly summary: StreamSummary;
}

const known = new Set(['sink', 'errors', 'fakeTime', 'signal', 'name', 'concurrency', 'batch', 'maxPending']);

/**
 * Runs `handler` over `inputs` (an array, a generator, a `MemoryTopic`, any source) in a registry
 * of its own, exactly as `stream()` would, and resolves with the outputs, the dead letters and
 * the summary. For unit tests of handlers: no broker, no global registry, no signal handlers.
 */
export async function runSnap<O = unknown, I = unknown>(
  handler: (message: I, ...rest: never[]) => unknown,
  inputs: Source,
  options: RunSnapOptions = {},
): Promise<SnapRun<O>> {
  if (typeof handler !== 'function') throw new OptionsError(`runSnap: Expected \`handler\` to be a function, got ${describeValue(handler)}`);
  if (typeof options !== 'object' || options === null) throw new OptionsError(`runSnap: Expected \`options\` to be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new OptionsError(`runSnap: Unknown option \`${key}\` (known: ${[...known].join(', ')})`);
  }
  const { sink, errors, fakeTime, signal, ...snapOptions } = options;
  const outputs: O[] = [];
  const deadLetters: DeadLetter[] = [];
  const extra = sink === undefined ? [] : Array.isArray(sink) ? (sink as readonly Sink[]) : [sink as Sink];
  const policy =
    errors === 'stop' || errors === 'skip'
      ? errors
      : { ...(errors?.retry ? { retry: errors.retry } : {}), deadLetter: (letter: DeadLetter) => void deadLetters.push(letter) };
  if (errors !== undefined && errors !== 'stop' && errors !== 'skip' && (typeof errors !== 'object' || errors === null)) {
    throw new OptionsError(`runSnap: Expected \`errors\` to be 'stop', 'skip' or { retry }, got ${describeValue(errors)}`);
  }

  const registry = new Registry();
  registry.snap(inputs, {
    ...snapOptions,
    sink: [(value: O) => void outputs.push(value), ...extra],
    errors: policy,
  } as SnapOptions)(handler as (message: unknown) => unknown);

  const clock = fakeTime instanceof FakeClock ? fakeTime : fakeTime ? new FakeClock() : undefined;
  const owned = clock !== undefined && !clock.installed;
  clock?.install();
  try {
    const running = registry.stream({ handleSignals: false, progress: false, progressIntervalMs: false, ...(signal ? { signal } : {}) });
    if (clock) {
      let settled = false;
      running.then(() => { settled = true; }, () => { settled = true; });
      while (!settled) {
        await settle();
        if (settled) break;
        // Nothing left but timers: jump to the next. Nothing at all: something real is pending.
        if (!(await clock.next())) await realDelay(1);
      }
    }
    const summary = await running;
    return { outputs, deadLetters, summary };
  } finally {
    if (owned) clock.uninstall();
  }
}
