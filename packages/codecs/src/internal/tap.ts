import { createRequire } from 'node:module';

/**
 * avsc's read cursor over a buffer (internal to avsc; avsc 5 has no `exports` map, so its
 * `lib/utils.js` is reachable). The registry-framed decode reads the body at offset 5 with it,
 * as `fromBuffer` does at offset 0, instead of `Type#decode`, which also allocates a result object.
 */
export interface Tap {
  buf: Buffer;
  pos: number;
}

/** A type or resolver, as `fromBuffer` calls it. */
export interface Reader {
  _read(tap: Tap): unknown;
}

const require = createRequire(import.meta.url);

export type TapConstructor = new (buf: Buffer, pos?: number) => Tap;

let tap: TapConstructor | undefined;

/** avsc's Tap constructor (`new (avscTap())(buffer, offset)`), loaded with avsc on first use. */
export function avscTap(): TapConstructor {
  tap ??= (require('avsc/lib/utils.js') as { Tap: TapConstructor }).Tap;
  return tap;
}
