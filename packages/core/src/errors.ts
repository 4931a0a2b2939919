import { errorCodes, type ErrorCode } from './codes.js';

/** Where a message came from. Every field is optional: sources fill in what they know. */
export interface MessageLocation {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string | number | bigint;
  readonly key?: unknown;
  /** The snap that was processing the message. */
  readonly snap?: string;
}

export interface SnoopyErrorOptions {
  readonly cause?: unknown;
  readonly location?: MessageLocation;
  /** Overrides the table's `retriable` for this instance. */
  readonly retriable?: boolean;
}

function describeLocation(location: MessageLocation | undefined): string {
  if (!location) return '';
  const parts: string[] = [];
  if (location.snap !== undefined) parts.push(`snap ${location.snap}`);
  if (location.topic !== undefined) parts.push(`topic ${location.topic}`);
  if (location.partition !== undefined) parts.push(`partition ${location.partition}`);
  if (location.offset !== undefined) parts.push(`offset ${String(location.offset)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * A message composed as `what: cause` says each part once: a part equal to the part just before
 * it (`broker transport failure: broker transport failure`, `decode failed: Decode failed`) is
 * dropped, case aside.
 */
function withoutRepeats(message: string): string {
  const parts = message.split(': ');
  if (parts.length < 2) return message;
  const kept = [parts[0]!];
  for (const part of parts.slice(1)) {
    const same = part.trim().toLowerCase();
    if (same.length > 0 && same === kept.at(-1)!.trim().toLowerCase()) continue;
    kept.push(part);
  }
  return kept.join(': ');
}

/** Base of every error snoopy throws. Branch on `code`, never on the message text. */
export class SnoopyError extends Error {
  override name = 'SnoopyError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly location: MessageLocation | undefined;

  constructor(code: ErrorCode, message: string, options: SnoopyErrorOptions = {}) {
    super(withoutRepeats(message) + describeLocation(options.location), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? errorCodes[code].retriable;
    this.location = options.location;
  }
}

/** An option or argument was wrong; thrown where it was given, never later. */
export class OptionsError extends SnoopyError {
  override name = 'OptionsError';
  constructor(message: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_OPTIONS_INVALID', message, options);
  }
}

/** A resource was used after `close()`. */
export class ClosedError extends SnoopyError {
  override name = 'ClosedError';
  constructor(what: string) {
    super('SNOOPY_CLOSED', `${what} is closed`);
  }
}

/** A wait was aborted by its `signal`; `cause` is the signal's reason. */
export class AbortError extends SnoopyError {
  override name = 'AbortError';
  constructor(what: string, reason?: unknown) {
    super('SNOOPY_ABORTED', `${what} was aborted`, { cause: reason });
  }
}

/** A wait ran past its timeout. */
export class TimeoutError extends SnoopyError {
  override name = 'TimeoutError';
  constructor(what: string, ms: number, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_TIMEOUT', `${what} did not finish within ${ms} ms`, options);
  }
}

/**
 * A message failed inside a snap: its handler or a sink threw, its source could not deliver it,
 * or the source itself failed. `location.snap` names the snap; `cause` is the original error.
 */
export class SnapError extends SnoopyError {
  override name = 'SnapError';
  readonly snap: string;
  constructor(
    code: 'SNOOPY_SNAP_HANDLER' | 'SNOOPY_SNAP_SINK' | 'SNOOPY_SOURCE_FAILED' | 'SNOOPY_SOURCE_ITEM',
    snap: string,
    cause: unknown,
    location: MessageLocation = {},
  ) {
    const what =
      code === 'SNOOPY_SNAP_HANDLER' ? 'handler failed'
      : code === 'SNOOPY_SNAP_SINK' ? 'sink failed'
      : code === 'SNOOPY_SOURCE_FAILED' ? 'source failed'
      : 'source could not deliver a message';
    let reason = cause instanceof Error ? cause.message : String(cause);
    // The cause's coordinates join this error's own, said once at the end.
    const inner = cause instanceof SnoopyError ? cause.location : undefined;
    const suffix = describeLocation(inner);
    if (suffix !== '' && reason.endsWith(suffix)) reason = reason.slice(0, -suffix.length);
    const { snap: _innerSnap, ...innerLocation } = inner ?? {};
    super(code, `Snap ${snap}: ${what}: ${reason}`, { cause, location: { ...innerLocation, ...location, snap } });
    this.snap = snap;
  }
}

/** Formats a value for an error message: `` `0` (number) ``. */
export function describeValue(value: unknown): string {
  let shown: string;
  if (typeof value === 'string') shown = JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  else if (typeof value === 'function') shown = value.name ? `[function ${value.name}]` : '[function]';
  else if (typeof value === 'bigint') shown = `${value}n`;
  else if (typeof value === 'symbol') shown = value.toString();
  else if (value === null || typeof value !== 'object') shown = String(value);
  else if (Array.isArray(value)) shown = `[array of ${value.length}]`;
  else {
    try {
      const json = JSON.stringify(value);
      shown = json === undefined ? Object.prototype.toString.call(value) : json.length > 60 ? json.slice(0, 60) + '…' : json;
    } catch {
      shown = Object.prototype.toString.call(value);
    }
  }
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}
