import { SnoopyError, type ErrorCode, type SnoopyErrorOptions } from '@snoopy/core';

/** The codes an `HttpError` can carry; each is in core's table of codes (a test checks both ways). */
export const httpErrorCodes = [
  'SNOOPY_HTTP_DELIVERY',
  'SNOOPY_HTTP_GONE',
  'SNOOPY_HTTP_ADDRESS_REFUSED',
  'SNOOPY_HTTP_SIGNATURE',
  'SNOOPY_HTTP_TIMESTAMP',
  'SNOOPY_HTTP_FILTER',
  'SNOOPY_HTTP_GRANT',
] as const satisfies readonly ErrorCode[];

export type HttpErrorCode = (typeof httpErrorCodes)[number];

export interface HttpErrorOptions extends SnoopyErrorOptions {
  /** The endpoint, for delivery errors. */
  readonly url?: string;
  /** The last HTTP status received, when there was a response. */
  readonly status?: number;
  /** The first bytes of the last response body (at most 512 characters). */
  readonly body?: string;
  /** Attempts made, the first included. */
  readonly attempts?: number;
  /** The `webhook-id` of the delivery. */
  readonly webhookId?: string;
}

/**
 * Everything `@snoopy/http` fails with, apart from bad options (`OptionsError`), use after close
 * (`ClosedError`) and an attempt timing out (`TimeoutError`, as the `cause` of a delivery error).
 * A dead letter of a webhook sink carries one in `error.cause`: its `status`, `body` and `attempts`
 * say how the endpoint answered last.
 */
export class HttpError extends SnoopyError {
  override name = 'HttpError';
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly body: string | undefined;
  readonly attempts: number | undefined;
  readonly webhookId: string | undefined;

  constructor(code: HttpErrorCode, message: string, options: HttpErrorOptions = {}) {
    super(code, message, options);
    this.url = options.url;
    this.status = options.status;
    this.body = options.body;
    this.attempts = options.attempts;
    this.webhookId = options.webhookId;
  }

  /** A JSON-friendly form, so that a serialized dead letter keeps status, body and attempts. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      url: this.url,
      status: this.status,
      body: this.body,
      attempts: this.attempts,
      webhookId: this.webhookId,
    };
  }
}
