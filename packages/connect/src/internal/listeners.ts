import type { Logger } from '@snoopy/core';

export type Unsubscribe = () => void;

/**
 * Typed event listeners. A listener that throws is logged and skipped: it never stops the
 * component that emits (the Panoply SDK's sender thread died on one).
 */
export class Listeners<Events extends object> {
  private readonly map = new Map<keyof Events, ((payload: never) => void)[]>();

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): Unsubscribe {
    if (typeof listener !== 'function') throw new TypeError(`Expected a listener function for \`${String(event)}\``);
    const list = [...(this.map.get(event) ?? []), listener as (payload: never) => void];
    this.map.set(event, list);
    return () => {
      const now = this.map.get(event);
      if (now === undefined) return;
      const rest = now.filter((l) => l !== listener);
      if (rest.length === 0) this.map.delete(event);
      else this.map.set(event, rest);
    };
  }

  has(event: keyof Events): boolean {
    return this.map.has(event);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E], logger: Logger): void {
    const list = this.map.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      try {
        (listener as (p: Events[E]) => void)(payload);
      } catch (error) {
        logger.warn({ err: error, event: String(event) }, 'event listener threw');
      }
    }
  }
}
