import { AbortError } from '@snoopy/core';

/**
 * @internal A sleep that ends early on `wake()` (a NOTIFY, a close) or on a signal. Its timer is
 * cleared whichever way it ends, so a stopped source leaves nothing running.
 */
export class Waker {
  private pending: (() => void) | undefined;
  private woken = false;

  /** Ends the current sleep, or makes the next one return at once. */
  wake(): void {
    this.woken = true;
    const resolve = this.pending;
    this.pending = undefined;
    resolve?.();
  }

  /** Sleeps up to `ms`; resolves early on `wake()`; rejects with `SNOOPY_ABORTED` on `signal`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError('Waiting for changes', signal.reason));
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
        this.woken = false;
      };
      const onAbort = (): void => {
        finish();
        reject(new AbortError('Waiting for changes', signal?.reason));
      };
      timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = () => {
        finish();
        resolve();
      };
    });
  }
}
