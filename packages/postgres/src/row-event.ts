import type { Change, ChangeOp } from './types.js';

const types = { insert: 'row.inserted', update: 'row.updated', delete: 'row.deleted' } as const satisfies Record<ChangeOp, string>;

/**
 * The event a subscriber (a webhook, say) receives for a change: thin by default, as
 * django-pubsubpull's README promised (`{ type: 'row.updated', table, id }`: the subscriber
 * fetches what it needs), with the rows when asked. `change` is the change's id: unique per
 * change and the same on every redelivery, so it makes a good idempotency key (`webhook-id`).
 */
export interface RowEvent<Row = Record<string, unknown>> {
  readonly type: 'row.inserted' | 'row.updated' | 'row.deleted';
  /** Schema-qualified table. */
  readonly table: string;
  /** The primary key (values joined with `,`). */
  readonly id: string | null;
  /** The change's id (`'<txid>/<seq>'`). */
  readonly change: string;
  /** With `{ rows: true }`: the row before (updates, deletes). */
  readonly old?: Row | null;
  /** With `{ rows: true }`: the row after (inserts, updates). */
  readonly new?: Row | null;
  /** With `{ rows: true }`: the columns an update changed. */
  readonly changed?: readonly string[] | null;
}

/** A change as a subscriber's event: `rowEvent(change)` thin, `rowEvent(change, { rows: true })` with the rows. */
export function rowEvent<Row>(change: Change<Row>, options: { readonly rows?: boolean } = {}): RowEvent<Row> {
  const event = { type: types[change.op], table: change.table, id: change.key, change: change.id };
  return options.rows === true ? { ...event, old: change.old, new: change.new, changed: change.changed } : event;
}
