import type { Cursor } from '../types.js';

/** The largest `at` and `seq` a feed accepts: 2^53 - 1, so both fit 14 hex digits. */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER;

/** Newest first: negative when `a` is newer than `b`. */
export function newerFirst(a: Cursor, b: Cursor): number {
  return b.at - a.at || b.seq - a.seq;
}

/** Whether `a` is strictly older than `b`. */
export function olderThan(a: Cursor, b: Cursor): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** 14 hex digits, so that string order is numeric order for 0 <= n <= 2^53 - 1. */
export function hex14(n: number): string {
  const s = n.toString(16);
  return s.length >= 14 ? s : '00000000000000'.slice(s.length) + s;
}

/** `hex14(at) + hex14(seq)`: positions whose string order is their feed order (oldest first). */
export function encodePosition(p: Cursor): string {
  return hex14(p.at) + hex14(p.seq);
}

export function decodePosition(s: string, from = 0): Cursor {
  return { at: parseInt(s.slice(from, from + 14), 16), seq: parseInt(s.slice(from + 14, from + 28), 16) };
}

/**
 * k-way merge of lists that are each newest first, dropping repeats of a position (an event
 * indexed under two ORed values), stopping after `limit` positions.
 */
export function mergeNewest(lists: readonly (readonly Cursor[])[], limit: number): Cursor[] {
  const out: Cursor[] = [];
  if (limit <= 0) return out;
  if (lists.length === 1) return lists[0]!.slice(0, limit);
  // A binary heap of list indexes, keyed by each list's head.
  const heads = new Array<number>(lists.length).fill(0);
  const heap: number[] = [];
  const head = (i: number): Cursor => lists[i]![heads[i]!]!;
  const less = (i: number, j: number): boolean => newerFirst(head(i), head(j)) < 0;
  const down = (k: number): void => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === k) return;
      [heap[k], heap[m]] = [heap[m]!, heap[k]!];
      k = m;
    }
  };
  for (let i = 0; i < lists.length; i++) if (lists[i]!.length > 0) heap.push(i);
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
  let last: Cursor | undefined;
  while (heap.length > 0 && out.length < limit) {
    const i = heap[0]!;
    const p = head(i);
    if (last === undefined || last.at !== p.at || last.seq !== p.seq) {
      out.push(p);
      last = p;
    }
    heads[i]!++;
    if (heads[i]! >= lists[i]!.length) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    down(0);
  }
  return out;
}
