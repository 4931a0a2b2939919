import { OptionsError, describeValue } from '@snoopy/core';
import type { Cache } from '@snoopy/cache';
import { FeedStoreError } from './errors.js';
import { ALL_INDEX } from './internal/index-keys.js';
import { decodePosition, encodePosition, hex14 } from './internal/order.js';
import { expectKnownKeys, expectName, expectObject, type LevelStoreOptions } from './options.js';
import type { FeedStore, NewRecord, StoredRecord } from './store.js';
import type { Cursor } from './types.js';

interface LevelRecord {
  readonly at: number;
  readonly event: unknown;
  readonly ix: readonly string[];
}

/** JSON, as text, whatever codec the caller's cache has. */
const jsonText = {
  name: 'feed-json',
  encode: (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (bytes: Buffer | Uint8Array): unknown => JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown,
  encodeText: (value: unknown): string => JSON.stringify(value),
  decodeText: (text: string): unknown => JSON.parse(text) as unknown,
};

// Keys in the namespace: 'e' + hex14(seq) -> record; 'i' + index + '\0' + hex14(at) + hex14(seq) -> 0.
// Index names are JSON, which escapes control characters, so '\0' ends a name.
const recordKey = (seq: number): string => 'e' + hex14(seq);
const indexPrefix = (index: string): string => 'i' + index + '\x00';

/**
 * Keeps a feed in a namespace of a `@snoopy/cache` LevelDB cache: the embedded default. Every
 * index is a key range; a write is one atomic LevelDB batch. Closing the feed does not close the
 * cache.
 */
class LevelStore implements FeedStore {
  readonly name: string;
  readonly #db: Cache<unknown>;
  #seq = 0;
  #initialised = false;

  constructor(cache: Cache<unknown>, namespace: string) {
    this.name = `level:${namespace}`;
    this.#db = cache.namespace<unknown>(namespace, { codec: jsonText });
  }

  async init(): Promise<void> {
    if (this.#initialised) return;
    await this.#db.open();
    for await (const key of this.#db.keys({ prefix: 'e', reverse: true, limit: 1 })) this.#seq = parseInt(key.slice(1), 16);
    this.#initialised = true;
  }

  async append(records: readonly NewRecord[]): Promise<number[]> {
    const ops: { type: 'set'; key: string; value: unknown }[] = [];
    const seqs: number[] = [];
    for (const r of records) {
      const seq = ++this.#seq;
      seqs.push(seq);
      const position = encodePosition({ at: r.at, seq });
      const stored: LevelRecord = { at: r.at, event: r.event, ix: r.indexes };
      ops.push({ type: 'set', key: recordKey(seq), value: stored });
      for (const ix of r.indexes) ops.push({ type: 'set', key: indexPrefix(ix) + position, value: 0 });
    }
    try {
      await this.#db.batch(ops);
    } catch (cause) {
      throw new FeedStoreError(this.name, 'write', { cause });
    }
    return seqs;
  }

  async page(index: string, before: Cursor | undefined, limit: number): Promise<Cursor[]> {
    const prefix = indexPrefix(index);
    const out: Cursor[] = [];
    const range = before === undefined ? { prefix } : { gte: prefix, lt: prefix + encodePosition(before) };
    for await (const key of this.#db.keys({ ...range, reverse: true, limit })) out.push(decodePosition(key, prefix.length));
    return out;
  }

  async load(positions: readonly Cursor[]): Promise<(StoredRecord | undefined)[]> {
    const found = this.#db.getMany(positions.map((p) => recordKey(p.seq))) as (LevelRecord | undefined)[];
    return found.map((r, i) => (r === undefined ? undefined : { at: r.at, seq: positions[i]!.seq, event: r.event }));
  }

  async count(index: string): Promise<number> {
    let n = 0;
    for await (const _ of this.#db.keys({ prefix: indexPrefix(index) })) n++;
    return n;
  }

  async nth(index: string, n: number): Promise<Cursor | undefined> {
    const prefix = indexPrefix(index);
    let i = 0;
    for await (const key of this.#db.keys({ prefix, reverse: true, limit: n + 1 })) {
      if (i++ === n) return decodePosition(key, prefix.length);
    }
    return undefined;
  }

  async removeOlder(cutoff: Cursor, limit: number): Promise<number> {
    const prefix = indexPrefix(ALL_INDEX);
    const victims: Cursor[] = [];
    for await (const key of this.#db.keys({ gte: prefix, lt: prefix + encodePosition(cutoff), limit })) victims.push(decodePosition(key, prefix.length));
    if (victims.length === 0) return 0;
    const ops: { type: 'delete'; key: string }[] = [];
    for (const v of victims) {
      const record = this.#db.get(recordKey(v.seq)) as LevelRecord | undefined;
      const position = encodePosition(v);
      for (const ix of record?.ix ?? [ALL_INDEX]) ops.push({ type: 'delete', key: indexPrefix(ix) + position });
      ops.push({ type: 'delete', key: recordKey(v.seq) });
    }
    try {
      await this.#db.batch(ops);
    } catch (cause) {
      throw new FeedStoreError(this.name, 'sweep', { cause });
    }
    return victims.length;
  }

  async close(): Promise<void> {
    // The namespace belongs to the caller's cache, which the caller closes.
  }
}

/** A feed store on a `@snoopy/cache` Cache (LevelDB), in the namespace `options.namespace`. */
export function levelStore(cache: Cache<any, any>, options: LevelStoreOptions = {}): FeedStore {
  if (typeof cache !== 'function' || typeof (cache as Partial<Cache>).namespace !== 'function') {
    throw new OptionsError(`Expected a Cache from @snoopy/cache, got ${describeValue(cache)}`);
  }
  const o = expectObject('levelStore options', options);
  expectKnownKeys('levelStore', o, ['namespace']);
  const namespace = expectName('namespace', o.namespace ?? 'feed', /^[^\x00]+$/, 'a non-empty string without NUL');
  return new LevelStore(cache as Cache<unknown>, namespace);
}
