import { Registry } from './registry.js';

/** The registry behind the package's `snap` and `stream`; emptied each time its stream settles. */
export const defaultRegistry = new Registry();

/**
 * Binds sources to a handler and its sinks, in the default registry:
 * `@snap(range(5), { sink: [console.log] })` on a method, or `snap(src, opts)(fn)`.
 */
export const snap = defaultRegistry.snap;

/** Runs every snap of the default registry; see `Registry#stream`. */
export const stream = defaultRegistry.stream;
