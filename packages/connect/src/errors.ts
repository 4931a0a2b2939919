import { SnoopyError, type SnoopyErrorOptions } from '@snoopy/core';

/** One record encodes to more than `maxBytes`: it fails alone, the rest of the batch goes on. */
export class RecordTooLargeError extends SnoopyError {
  override name = 'RecordTooLargeError';
  constructor(
    writer: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super('SNOOPY_CONNECT_RECORD_TOO_LARGE', `Writer ${writer}: a record of ${bytes} bytes exceeds maxBytes (${maxBytes})`);
  }
}

/** A batch could not be sent: `send` failed with a non-retriable error, or on every attempt. */
export class SendError extends SnoopyError {
  override name = 'SendError';
  constructor(
    writer: string,
    readonly records: number,
    readonly attempts: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('SNOOPY_CONNECT_SEND', `Writer ${writer}: a batch of ${records} records was not sent after ${attempts} attempt(s): ${reason}`, { cause });
  }
}

/** `close({ timeoutMs })` ran out of time with records still unsent; they fail with this. */
export class UnsentError extends SnoopyError {
  override name = 'UnsentError';
  constructor(writer: string, timeoutMs: number) {
    super('SNOOPY_CONNECT_UNSENT', `Writer ${writer}: closed after ${timeoutMs} ms with the record still unsent`);
  }
}

/** A declared parameter is missing or has the wrong type; `param` names it. Never quotes a secret. */
export class ParamError extends SnoopyError {
  override name = 'ParamError';
  constructor(
    source: string,
    readonly param: string,
    message: string,
  ) {
    super('SNOOPY_CONNECT_PARAM', `${source}: parameter \`${param}\` ${message}`);
  }
}

/** `read()` failed with a non-retriable error, or on every attempt. */
export class ReadError extends SnoopyError {
  override name = 'ReadError';
  constructor(source: string, attempts: number, cause: unknown, message: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_CONNECT_READ', `${source}: read failed after ${attempts} attempt(s): ${message}`, { ...options, cause });
  }
}

/** `snoopy run <module>`: the module cannot be loaded or exports no DataSource class. */
export class SourceModuleError extends SnoopyError {
  override name = 'SourceModuleError';
  constructor(path: string, message: string, cause?: unknown) {
    super('SNOOPY_CONNECT_MODULE', `${path}: ${message}`, cause === undefined ? {} : { cause });
  }
}
