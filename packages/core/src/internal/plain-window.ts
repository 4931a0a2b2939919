import { StageFailure } from './job.js';

/** What the window needs from its runner. */
export interface WindowHost {
  /** The stream halted: messages are abandoned, not emitted. */
  readonly halted: boolean;
  /** Sends a handler's value to the sinks; may return a promise; throws a StageFailure. */
  emitValue(value: unknown): void | Promise<void>;
  /** The message failed (its handler threw, or a sink did): the error policy takes it. */
  failed(item: unknown, error: unknown): void;
  /** A message left the window (emitted, failed, or abandoned). */
  left(): void;
}

interface Slot {
  item: unknown;
  value: unknown;
  /** 0: handler running, 1: returned `value`, 2: threw `value`. */
  state: 0 | 1 | 2;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The plain path's ordered window under concurrency > 1: up to `capacity` messages whose handlers
 * run at once, emitted strictly in the order they came in. A ring of slots made once, each with
 * its own settle callbacks, so a message costs one reaction on its handler's promise and nothing
 * else: no job, no closure, no promise per message. The reaction also marks a rejection as
 * handled at once, while the message waits for its turn.
 */
export class PlainWindow {
  private readonly slots: Slot[];
  private head = 0;
  private size = 0;
  private emitting = false;
  private waiter: (() => void) | null = null;

  constructor(
    readonly capacity: number,
    private readonly host: WindowHost,
  ) {
    this.slots = Array.from({ length: capacity }, () => this.slot());
  }

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Takes a message whose handler returned `result` (`thenable`: a promise). The window has room. */
  add(item: unknown, result: unknown, thenable: boolean): void {
    const slot = this.slots[(this.head + this.size) % this.capacity]!;
    this.size++;
    slot.item = item;
    if (thenable) {
      slot.state = 0;
      (result as PromiseLike<unknown>).then(slot.resolve, slot.reject);
    } else {
      slot.state = 1;
      slot.value = result;
      this.emitReady();
    }
  }

  /** Resolves when a message left the window (it is full: the pump waits for room). */
  room(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Resolves once every message in the window has left it. */
  async drain(): Promise<void> {
    while (this.size > 0) await this.room();
  }

  private slot(): Slot {
    const slot: Slot = {
      item: undefined,
      value: undefined,
      state: 0,
      resolve: (value) => {
        slot.value = value;
        slot.state = 1;
        if (slot === this.slots[this.head]) this.emitReady();
      },
      reject: (error) => {
        slot.value = error;
        slot.state = 2;
        if (slot === this.slots[this.head]) this.emitReady();
      },
    };
    return slot;
  }

  /** Emits from the head while the head's handler has settled and no emission is under way. */
  private emitReady(): void {
    const host = this.host;
    while (this.size > 0 && !this.emitting) {
      const slot = this.slots[this.head]!;
      if (slot.state === 0) return;
      const { item, value, state } = slot;
      slot.item = undefined;
      slot.value = undefined;
      if (host.halted) {
        this.leave();
        continue;
      }
      if (state === 2) {
        this.leave(item, new StageFailure('handler', value));
        continue;
      }
      let pending: void | Promise<void>;
      try {
        pending = host.emitValue(value);
      } catch (error) {
        this.leave(item, error);
        continue;
      }
      if (pending !== undefined) {
        this.emitting = true;
        pending.then(
          () => {
            this.emitting = false;
            this.leave();
            this.emitReady();
          },
          (error: unknown) => {
            this.emitting = false;
            this.leave(item, error);
            this.emitReady();
          },
        );
        return;
      }
      this.leave();
    }
  }

  private leave(item?: unknown, error?: unknown): void {
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    if (error !== undefined) this.host.failed(item, error);
    this.host.left();
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter();
    }
  }
}
