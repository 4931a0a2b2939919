import { createHash } from 'node:crypto';
import { OptionsError, describeValue } from '@snoopy/core';
import type { Redis } from 'ioredis';
import { FeedStoreError } from './errors.js';
import { ALL_INDEX } from './internal/index-keys.js';
import { decodePosition, encodePosition } from './internal/order.js';
import { expectKnownKeys, expectName, expectObject, expectOptionalInteger, type RedisStoreOptions } from './options.js';
import type { FeedStore, NewRecord, StoredRecord } from './store.js';
import type { Cursor } from './types.js';

// Keys: <prefix>:seq (the sequence), <prefix>:e:<seq> (the record, JSON {at, event, ix}),
// <prefix>:i:<index> (a sorted set, every score 0, members hex14(at) + hex14(seq), so that
// lexicographic order is feed order and BYLEX ranges are positions).
// The scripts build key names from the prefix, so a feed lives on one Redis node (not Cluster).
const LUA_COMMON = `
local function hex14(n)
  local digits = '0123456789abcdef'
  local s = ''
  for _ = 1, 14 do
    local d = n % 16
    s = string.sub(digits, d + 1, d + 1) .. s
    n = (n - d) / 16
  end
  return s
end
local function remove(prefix, member)
  local seq = tonumber(string.sub(member, 15, 28), 16)
  local rkey = prefix .. ':e:' .. string.format('%.0f', seq)
  local stored = redis.call('GET', rkey)
  if stored then
    local record = cjson.decode(stored)
    for _, ix in ipairs(record.ix) do redis.call('ZREM', prefix .. ':i:' .. ix, member) end
    redis.call('DEL', rkey)
  else
    redis.call('ZREM', prefix .. ':i:[]', member)
  end
end
`;

// ARGV: prefix, cap (0 = none), n, then per record: hex14(at), record JSON, index count, indexes...
const APPEND = `${LUA_COMMON}
local prefix = ARGV[1]
local cap = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local first = redis.call('INCRBY', prefix .. ':seq', n) - n
local seqs = {}
local touched = {}
local p = 4
for r = 1, n do
  local seq = first + r
  local member = ARGV[p] .. hex14(seq)
  redis.call('SET', prefix .. ':e:' .. string.format('%.0f', seq), ARGV[p + 1])
  local nix = tonumber(ARGV[p + 2])
  p = p + 3
  for _ = 1, nix do
    local key = prefix .. ':i:' .. ARGV[p]
    p = p + 1
    redis.call('ZADD', key, 0, member)
    touched[key] = true
  end
  seqs[r] = seq
end
if cap > 0 then
  local all = prefix .. ':i:[]'
  for key, _ in pairs(touched) do
    local size = redis.call('ZCARD', key)
    if size > cap then
      if key == all then
        for _, member in ipairs(redis.call('ZRANGE', key, 0, size - cap - 1)) do remove(prefix, member) end
      else
        redis.call('ZREMRANGEBYRANK', key, 0, size - cap - 1)
      end
    end
  end
end
return seqs
`;

// ARGV: prefix, cutoff member (exclusive), limit. Removes the oldest events before the cutoff.
const REMOVE_OLDER = `${LUA_COMMON}
local prefix = ARGV[1]
local members = redis.call('ZRANGEBYLEX', prefix .. ':i:[]', '-', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(members) do remove(prefix, member) end
return #members
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const appendScript = script(APPEND);
const removeScript = script(REMOVE_OLDER);

interface RedisRecord {
  readonly at: number;
  readonly event: unknown;
  readonly ix: readonly string[];
}

/**
 * Keeps a feed in Redis: one sorted set per index, each write one Lua script (atomic), with an
 * optional cap per index. The caller owns the client: closing the feed does not close it.
 */
class RedisStore implements FeedStore {
  readonly name: string;
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #cap: number;

  constructor(client: Redis, prefix: string, cap: number | undefined) {
    this.name = `redis:${prefix}`;
    this.#client = client;
    this.#prefix = prefix;
    this.#cap = cap ?? 0;
  }

  async #run(s: Script, args: (string | number)[], what: string): Promise<unknown> {
    try {
      try {
        return await this.#client.evalsha(s.sha, 0, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await this.#client.eval(s.source, 0, ...args);
      }
    } catch (cause) {
      throw new FeedStoreError(this.name, what, { cause });
    }
  }

  async #call<V>(what: string, run: () => Promise<V>): Promise<V> {
    try {
      return await run();
    } catch (cause) {
      throw new FeedStoreError(this.name, what, { cause });
    }
  }

  #indexKey(index: string): string {
    return `${this.#prefix}:i:${index}`;
  }

  async init(): Promise<void> {
    await this.#call('init', async () => {
      await this.#client.script('LOAD', APPEND);
      await this.#client.script('LOAD', REMOVE_OLDER);
    });
  }

  async append(records: readonly NewRecord[]): Promise<number[]> {
    const args: (string | number)[] = [this.#prefix, this.#cap, records.length];
    for (const r of records) {
      const stored: RedisRecord = { at: r.at, event: r.event, ix: r.indexes };
      args.push(encodePosition({ at: r.at, seq: 0 }).slice(0, 14), JSON.stringify(stored), r.indexes.length, ...r.indexes);
    }
    return (await this.#run(appendScript, args, 'write')) as number[];
  }

  async page(index: string, before: Cursor | undefined, limit: number): Promise<Cursor[]> {
    const key = this.#indexKey(index);
    const members = await this.#call('read', () =>
      before === undefined
        ? this.#client.zrevrange(key, 0, limit - 1)
        : this.#client.zrevrangebylex(key, `(${encodePosition(before)}`, '-', 'LIMIT', 0, limit),
    );
    return members.map((m) => decodePosition(m));
  }

  async load(positions: readonly Cursor[]): Promise<(StoredRecord | undefined)[]> {
    if (positions.length === 0) return [];
    const found = await this.#call('read', () => this.#client.mget(positions.map((p) => `${this.#prefix}:e:${p.seq}`)));
    return found.map((text, i) => {
      if (text === null) return undefined;
      const r = JSON.parse(text) as RedisRecord;
      return { at: r.at, seq: positions[i]!.seq, event: r.event };
    });
  }

  count(index: string): Promise<number> {
    return this.#call('count', () => this.#client.zcard(this.#indexKey(index)));
  }

  async nth(index: string, n: number): Promise<Cursor | undefined> {
    const [member] = await this.#call('read', () => this.#client.zrevrange(this.#indexKey(index), n, n));
    return member === undefined ? undefined : decodePosition(member);
  }

  async removeOlder(cutoff: Cursor, limit: number): Promise<number> {
    return (await this.#run(removeScript, [this.#prefix, encodePosition(cutoff), limit], 'sweep')) as number;
  }

  async close(): Promise<void> {
    // The client belongs to the caller.
  }
}

/**
 * A feed store on an ioredis client, under the key prefix `options.prefix` (one feed per prefix).
 * `maxPerIndex` caps every index, trimming the oldest entries at each write.
 */
export function redisStore(client: Redis, options: RedisStoreOptions = {}): FeedStore {
  const c = client as Partial<Redis> | null;
  if (typeof c !== 'object' || c === null || typeof c.evalsha !== 'function' || typeof c.zrevrangebylex !== 'function') {
    throw new OptionsError(`Expected an ioredis client (new Redis(url)), got ${describeValue(client)}`);
  }
  const o = expectObject('redisStore options', options);
  expectKnownKeys('redisStore', o, ['prefix', 'maxPerIndex']);
  const prefix = expectName('prefix', o.prefix ?? 'feed', /^[^\s{}]+$/, 'a non-empty string without spaces or braces');
  return new RedisStore(client, prefix, expectOptionalInteger('maxPerIndex', o.maxPerIndex, 1));
}
