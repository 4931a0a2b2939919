import type { Logger } from 'pino';
import type { MessageMeta, ProgressReport } from './protocol.js';
import type { Source } from './options.js';

/**
 * The second argument of a handler that declares one: the stream's stop signal, the snap's
 * logger, the source the message came from, the snap's name, and the message's metadata where
 * its source describes it (key, topic, partition, offset, timestamp, headers).
 */
export interface SnapContext extends MessageMeta {
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly source: Source;
  readonly snap: string;
}

/** Per-snap counters in a stream's summary. */
export interface SnapSummary {
  readonly name: string;
  /** Messages that reached the snap (items, not batches). */
  readonly in: number;
  /** Values sent to the sinks (each value counted once, whatever the number of sinks). */
  readonly out: number;
  /** Messages that failed for good (skipped, dead-lettered, or the one that stopped the stream). */
  readonly errors: number;
  readonly skipped: number;
  readonly deadLettered: number;
  /** Attempts that failed and were tried again. */
  readonly retries: number;
  /**
   * Messages the sources held, where known: arrays, Sets and Maps by their size, sources with
   * core's `[progress]` protocol by their last reported `total`. Absent when any source's is unknown.
   */
  readonly total?: number;
  /** The last report of each source with core's `[progress]` protocol, in source order (absent if none). */
  readonly progress?: readonly ProgressReport[];
}

export interface StreamSummary {
  readonly in: number;
  readonly out: number;
  readonly errors: number;
  readonly durationMs: number;
  /** Why the stream ended: every source was exhausted, or a signal or abort stopped it. */
  readonly reason: 'end' | 'signal' | 'abort';
  readonly snaps: Readonly<Record<string, SnapSummary>>;
}
