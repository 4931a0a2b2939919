import { SnoopyError, type ErrorCode, type SnoopyErrorOptions } from '@snoopy/core';

/** A `snoopy` command's work failed (exit code 1): the brokers did not answer, stdin had a bad line. */
export class CliError extends SnoopyError {
  override name = 'CliError';
  constructor(code: Extract<ErrorCode, `SNOOPY_CLI_${string}`>, message: string, options: SnoopyErrorOptions = {}) {
    super(code, message, options);
  }
}
