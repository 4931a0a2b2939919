import { SnoopyError, type SnoopyErrorOptions } from '@snoopy/core';

/** PostgreSQL SQLSTATE classes after which the same query may succeed on a new connection. */
const retriableStates = /^(08|57P|53|40001|40P01)/;

/**
 * A query failed. `pgCode` is PostgreSQL's SQLSTATE (`42601` syntax error, `57P01` terminated
 * connection...); `retriable` is true for connection losses, shutdowns, resource shortages,
 * serialization failures and deadlocks.
 */
export class PgQueryError extends SnoopyError {
  override name = 'PgQueryError';
  readonly pgCode: string | undefined;
  constructor(what: string, options: SnoopyErrorOptions = {}) {
    const cause = options.cause as { code?: unknown; message?: unknown } | undefined;
    const pgCode = typeof cause?.code === 'string' && /^[0-9A-Z]{5}$/.test(cause.code) ? cause.code : undefined;
    const reason = typeof cause?.message === 'string' ? `: ${cause.message}` : '';
    super('SNOOPY_PG_QUERY', `PostgreSQL: ${what} failed${reason}`, {
      retriable: pgCode === undefined ? true : retriableStates.test(pgCode),
      ...options,
    });
    this.pgCode = pgCode;
  }
}

/** `changes()` was asked to read a schema where `install()` has not created the change table. */
export class PgNotInstalledError extends SnoopyError {
  override name = 'PgNotInstalledError';
  readonly schema: string;
  constructor(schema: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_PG_NOT_INSTALLED', `PostgreSQL: schema "${schema}" has no change table; call install(pool, { tables, schema: '${schema}' }) first`, options);
    this.schema = schema;
  }
}

/** A cursor function given to `pull()` returned something other than `{ items: [...], next }`. */
export class PgPageError extends SnoopyError {
  override name = 'PgPageError';
  constructor(message: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_PG_PAGE', message, options);
  }
}
