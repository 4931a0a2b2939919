import { OptionsError, describeValue, type Logger } from '@snoopy/core';
import type { Cache } from '@snoopy/cache';

/** Options of `install(pool, options)`. */
export interface InstallOptions {
  /** Tables whose inserts, updates and deletes are recorded (`'orders'`, `'shop.orders'`). */
  readonly tables: readonly string[];
  /**
   * Schema of ours that holds the change table, the checkpoints and the trigger functions.
   * @default 'snoopy'
   */
  readonly schema?: string;
  /**
   * Also add a statement trigger that sends a NOTIFY (a wake-up hint for `changes()`).
   * @default true
   */
  readonly notify?: boolean;
}

/** Options of `uninstall(pool, options)`. */
export interface UninstallOptions {
  /** @default 'snoopy' */
  readonly schema?: string;
  /**
   * Only remove the triggers of these tables and keep the schema; without it the triggers of
   * every table and the schema itself (with the recorded changes and checkpoints) are dropped.
   * @default undefined (everything)
   */
  readonly tables?: readonly string[];
}

/** Where `changes()` starts when it has no checkpoint, or regardless of one. */
export type ChangesFrom = 'checkpoint' | 'start' | 'now' | (string & {});

/** Options of `changes(pool, options)`. */
export interface ChangesOptions {
  /**
   * Only changes of these tables; others are read past (and checkpointed) without being yielded.
   * @default undefined (every table installed in the schema)
   */
  readonly tables?: readonly string[];
  /** @default 'snoopy' */
  readonly schema?: string;
  /**
   * Name of this consumer's checkpoint; consumers with different names each see every change.
   * @default 'default'
   */
  readonly name?: string;
  /**
   * `'checkpoint'`: after the stored checkpoint, or from the start when there is none;
   * `'start'`: every recorded change; `'now'`: only changes committed from now on; or a change's
   * `id` (`'<txid>/<seq>'`): the changes after it.
   * @default 'checkpoint'
   */
  readonly from?: ChangesFrom;
  /**
   * Milliseconds between polls when there is nothing new (a NOTIFY ends the wait early).
   * @default 1000
   */
  readonly pollMs?: number;
  /** Changes read per query. @default 500 */
  readonly batch?: number;
  /** LISTEN for the install's NOTIFY on a connection of the pool to wake up early. @default true */
  readonly listen?: boolean;
  /**
   * Where the checkpoint lives: `'table'` (`<schema>.checkpoints`) or a `Cache` from
   * `@snoopy/cache` (key: `name`). `false` keeps none (a restart follows `from`).
   * @default 'table'
   */
  readonly checkpoint?: 'table' | Cache<string> | false;
  /** Milliseconds between checkpoint writes while changes are acknowledged. @default 1000 */
  readonly checkpointMs?: number;
  /**
   * Processed changes older than this are deleted by the sweep; `0` keeps every change.
   * "Processed" is at or before this consumer's checkpoint and every checkpoint in the table.
   * @default 604_800_000 (7 days)
   */
  readonly retainMs?: number;
  /** Milliseconds between retention sweeps. @default 60_000 */
  readonly sweepMs?: number;
  /** Ends the iteration (like `close()`). @default undefined */
  readonly signal?: AbortSignal;
  /** @default rootLogger().child({ component: 'pg-changes', schema }) */
  readonly logger?: Logger;
}

/** How `pull()` starts and whether it ends. */
export type PullMode = 'all' | 'newOnly' | 'backfillOnce';

/** Options of `pull(source, options)`. */
export interface PullOptions {
  /** Column (or output name) the query is ordered and paged by; required for a SQL source. */
  readonly key?: string;
  /**
   * `'all'`: every current row, then the new ones; `'newOnly'`: only rows above the current
   * maximum when it starts; `'backfillOnce'`: every current row, then the iteration ends.
   * @default 'all'
   */
  readonly mode?: PullMode;
  /** Milliseconds between polls for new rows once caught up. @default 1000 */
  readonly every?: number;
  /** Rows per page (`LIMIT`). @default 500 */
  readonly pageSize?: number;
  /**
   * A `Cache` from `@snoopy/cache` that holds the position (key: `name`); a restart resumes
   * after it, whatever the mode. @default undefined (no checkpoint)
   */
  readonly checkpoint?: Cache<unknown>;
  /** Key of the checkpoint. @default 'default' */
  readonly name?: string;
  /** Milliseconds between checkpoint writes. @default 1000 */
  readonly checkpointMs?: number;
  /** Ends the iteration (like `close()`). @default undefined */
  readonly signal?: AbortSignal;
  /** @default rootLogger().child({ component: 'pg-pull' }) */
  readonly logger?: Logger;
}

export interface ResolvedInstallOptions {
  readonly tables: readonly string[];
  readonly schema: string;
  readonly notify: boolean;
}

export interface ResolvedUninstallOptions {
  readonly schema: string;
  readonly tables: readonly string[] | undefined;
}

export interface ResolvedChangesOptions {
  readonly tables: readonly string[] | undefined;
  readonly schema: string;
  readonly name: string;
  readonly from: ChangesFrom;
  readonly pollMs: number;
  readonly batch: number;
  readonly listen: boolean;
  readonly checkpoint: 'table' | Cache<string> | false;
  readonly checkpointMs: number;
  readonly retainMs: number;
  readonly sweepMs: number;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger | undefined;
}

export interface ResolvedPullOptions {
  readonly key: string | undefined;
  readonly mode: PullMode;
  readonly every: number;
  readonly pageSize: number;
  readonly checkpoint: Cache<unknown> | undefined;
  readonly name: string;
  readonly checkpointMs: number;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger | undefined;
}

export const installDefaults = Object.freeze({ schema: 'snoopy', notify: true });

export const changesDefaults = Object.freeze({
  schema: 'snoopy',
  name: 'default',
  from: 'checkpoint' as ChangesFrom,
  pollMs: 1000,
  batch: 500,
  listen: true,
  checkpoint: 'table' as const,
  checkpointMs: 1000,
  retainMs: 604_800_000,
  sweepMs: 60_000,
});

export const pullDefaults = Object.freeze({
  mode: 'all' as PullMode,
  every: 1000,
  pageSize: 500,
  name: 'default',
  checkpointMs: 1000,
});

/** An id of ours: `snoopy`, `snoopy_test_1`. Lower case so it needs no quoting anywhere. */
const schemaPattern = /^[a-z_][a-z0-9_]{0,40}$/;
/** A change's id: `<txid>/<seq>`. */
export const positionPattern = /^(\d+)\/(\d+)$/;

function object(where: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError(`Expected ${where} to be an object, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new OptionsError(`Unknown ${where} key \`${key}\`; known: ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  return value as Record<string, unknown>;
}

function expect(name: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) throw new OptionsError(`Expected \`${name}\` to be ${expected}, got ${describeValue(value)}`);
}

function integer(name: string, value: unknown, min: number): number {
  expect(name, value, typeof value === 'number' && Number.isInteger(value) && value >= min, `an integer >= ${min}`);
  return value as number;
}

function schemaName(value: unknown): string {
  expect('schema', value, typeof value === 'string' && schemaPattern.test(value), 'a lower-case identifier (letters, digits, _; at most 41 characters)');
  return value as string;
}

function tableList(name: string, value: unknown, optional: boolean): readonly string[] | undefined {
  if (value === undefined && optional) return undefined;
  expect(
    name,
    value,
    Array.isArray(value) && value.length > 0 && value.every((t) => typeof t === 'string' && t !== ''),
    'a non-empty array of table names',
  );
  return Object.freeze([...(value as string[])]);
}

function text(name: string, value: unknown): string {
  expect(name, value, typeof value === 'string' && value !== '', 'a non-empty string');
  return value as string;
}

function signalOf(value: unknown): AbortSignal | undefined {
  if (value !== undefined) expect('signal', value, value instanceof AbortSignal, 'an AbortSignal');
  return value as AbortSignal | undefined;
}

function loggerOf(value: unknown): Logger | undefined {
  if (value !== undefined) expect('logger', value, typeof (value as Logger | null)?.child === 'function', 'a pino logger');
  return value as Logger | undefined;
}

function isCache(value: unknown): boolean {
  const c = value as { get?: unknown; set?: unknown } | null;
  return typeof c === 'function' || (typeof c === 'object' && c !== null)
    ? typeof c?.get === 'function' && typeof c.set === 'function'
    : false;
}

/** Validates and freezes `install()` options. */
export function resolveInstallOptions(options: InstallOptions): ResolvedInstallOptions {
  const o = object('install options', options, ['tables', 'schema', 'notify']);
  const notify = o.notify ?? installDefaults.notify;
  expect('notify', notify, typeof notify === 'boolean', 'a boolean');
  return Object.freeze({
    tables: tableList('tables', o.tables, false)!,
    schema: schemaName(o.schema ?? installDefaults.schema),
    notify: notify as boolean,
  });
}

/** Validates and freezes `uninstall()` options. */
export function resolveUninstallOptions(options: UninstallOptions = {}): ResolvedUninstallOptions {
  const o = object('uninstall options', options, ['schema', 'tables']);
  return Object.freeze({ schema: schemaName(o.schema ?? installDefaults.schema), tables: tableList('tables', o.tables, true) });
}

/** Validates and freezes `changes()` options. */
export function resolveChangesOptions(options: ChangesOptions = {}): ResolvedChangesOptions {
  const o = object('changes options', options, [
    'tables', 'schema', 'name', 'from', 'pollMs', 'batch', 'listen', 'checkpoint', 'checkpointMs', 'retainMs', 'sweepMs', 'signal', 'logger',
  ]);
  const from = o.from ?? changesDefaults.from;
  expect(
    'from',
    from,
    typeof from === 'string' && (from === 'checkpoint' || from === 'start' || from === 'now' || positionPattern.test(from)),
    "'checkpoint', 'start', 'now' or a change id ('<txid>/<seq>')",
  );
  const listen = o.listen ?? changesDefaults.listen;
  expect('listen', listen, typeof listen === 'boolean', 'a boolean');
  const checkpoint = o.checkpoint ?? changesDefaults.checkpoint;
  expect('checkpoint', checkpoint, checkpoint === 'table' || checkpoint === false || isCache(checkpoint), "'table', false or a Cache");
  return Object.freeze({
    tables: tableList('tables', o.tables, true),
    schema: schemaName(o.schema ?? changesDefaults.schema),
    name: text('name', o.name ?? changesDefaults.name),
    from: from as ChangesFrom,
    pollMs: integer('pollMs', o.pollMs ?? changesDefaults.pollMs, 1),
    batch: integer('batch', o.batch ?? changesDefaults.batch, 1),
    listen: listen as boolean,
    checkpoint: checkpoint as ResolvedChangesOptions['checkpoint'],
    checkpointMs: integer('checkpointMs', o.checkpointMs ?? changesDefaults.checkpointMs, 1),
    retainMs: integer('retainMs', o.retainMs ?? changesDefaults.retainMs, 0),
    sweepMs: integer('sweepMs', o.sweepMs ?? changesDefaults.sweepMs, 1),
    signal: signalOf(o.signal),
    logger: loggerOf(o.logger),
  });
}

/** Validates and freezes `pull()` options; `sql` says whether the source is a query (needs `key`). */
export function resolvePullOptions(options: PullOptions = {}, sql = false): ResolvedPullOptions {
  const o = object('pull options', options, ['key', 'mode', 'every', 'pageSize', 'checkpoint', 'name', 'checkpointMs', 'signal', 'logger']);
  if (sql || o.key !== undefined) {
    expect('key', o.key, typeof o.key === 'string' && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(o.key), 'a column name (letters, digits, _ and $)');
  }
  const mode = o.mode ?? pullDefaults.mode;
  expect('mode', mode, mode === 'all' || mode === 'newOnly' || mode === 'backfillOnce', "'all', 'newOnly' or 'backfillOnce'");
  if (o.checkpoint !== undefined) expect('checkpoint', o.checkpoint, isCache(o.checkpoint), 'a Cache');
  return Object.freeze({
    key: o.key as string | undefined,
    mode: mode as PullMode,
    every: integer('every', o.every ?? pullDefaults.every, 1),
    pageSize: integer('pageSize', o.pageSize ?? pullDefaults.pageSize, 1),
    checkpoint: o.checkpoint as Cache<unknown> | undefined,
    name: text('name', o.name ?? pullDefaults.name),
    checkpointMs: integer('checkpointMs', o.checkpointMs ?? pullDefaults.checkpointMs, 1),
    signal: signalOf(o.signal),
    logger: loggerOf(o.logger),
  });
}
