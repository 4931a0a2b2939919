import type { MessageMeta } from '../protocol.js';
import type { ResolvedSnapOptions, Source } from '../options.js';
import { Emitter, isThenable } from './emit.js';
import { asFailure, Job, type Origin } from './job.js';

const noMeta: MessageMeta = Object.freeze({});

/**
 * A direct call `h(msg)` of a snapped function: the handler once, its result through the same
 * `Emitter` as in `stream()` (same rule for `undefined`, generators, sink order, deferred sinks),
 * resolving with the values sent once every sink completed, or rejecting with the error the
 * handler or a sink threw. No retry, no acknowledgement: it is a testing convenience.
 */
export function callDirect(
  options: ResolvedSnapOptions,
  source: Source,
  call: () => unknown,
): Promise<unknown[]> {
  const emitter = new Emitter(options.sinks, true, { out: 0 });
  const origin: Origin = { source, meta: () => noMeta };
  return new Promise<unknown[]>((resolve, reject) => {
    const job = new Job({ settled: (j) => (j.failure === undefined ? resolve(j.outputs ?? []) : reject(j.failure.error)) }, undefined, null, origin);
    const finish = (): void => job.done();
    const failed = (error: unknown): void => {
      job.failure ??= asFailure(error);
      job.done();
    };
    try {
      const result = call();
      if (isThenable(result)) {
        Promise.resolve(result)
          .then((value) => emitter.result(job, value), (error: unknown) => Promise.reject(asFailure(error)))
          .then(finish, failed);
        return;
      }
      const pending = emitter.result(job, result);
      if (pending === undefined) finish();
      else pending.then(finish, failed);
    } catch (error) {
      failed(error);
    }
  });
}
