import { createRequire } from 'node:module';
import type * as Avsc from 'avsc';

const require = createRequire(import.meta.url);

let avsc: typeof Avsc | undefined;

/**
 * avsc, loaded on first use (the first `AvroCodec`), not when `@snoopy/codecs` is imported:
 * its ~230 kB of modules cost a worker that uses only JSON or strings ~50 ms of start-up.
 * avsc 5 is CommonJS, so a synchronous `require` keeps every codec constructor synchronous.
 */
export function loadAvsc(): typeof Avsc {
  avsc ??= require('avsc') as typeof Avsc;
  return avsc;
}
