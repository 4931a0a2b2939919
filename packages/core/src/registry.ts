/// <reference types="reflect-metadata" preserve="true" />
import type { Logger } from 'pino';
import { OptionsError, SnoopyError, describeValue } from './errors.js';
import { rootLogger } from './logger.js';
import {
  isSource,
  resolveSnapOptions,
  resolveStreamOptions,
  type ResolvedSnapOptions,
  type SnapOptions,
  type Source,
  type StreamOptions,
} from './options.js';
import type { SnapContext, StreamSummary } from './context.js';
import { Run } from './internal/run.js';
import { callDirect } from './internal/direct-call.js';
import type { SnapDefinition } from './internal/runner.js';
import type { SnapDecorator, SnapFunction } from './snap-types.js';
import { installReflectMetadata } from './internal/reflect-metadata.js';

installReflectMetadata();

type AnyFunction = (...args: any[]) => any;

interface PendingInstanceSnap {
  readonly registry: Registry;
  readonly method: string | symbol;
  readonly sources: readonly Source[];
  readonly options: ResolvedSnapOptions;
}

const instanceSnapsKey = 'snoopy:instance-snaps';
const withSnapsKey = 'snoopy:with-snaps';

function splitArguments(args: readonly unknown[]): { sources: Source[]; options: SnapOptions | undefined } {
  const last = args[args.length - 1];
  const hasOptions = args.length > 0 && last !== null && typeof last === 'object' && !isSource(last) && typeof last !== 'function';
  const sources = (hasOptions ? args.slice(0, -1) : args) as unknown[];
  if (sources.length === 0) {
    throw new OptionsError('snap: Expected at least one source (an Iterable or AsyncIterable), got none');
  }
  sources.forEach((s, i) => {
    if (!isSource(s)) throw new OptionsError(`snap: Expected \`sources[${i}]\` to be an Iterable or AsyncIterable, got ${describeValue(s)}`);
  });
  return { sources: sources as Source[], options: hasOptions ? (last as SnapOptions) : undefined };
}

/**
 * A set of snaps and the means to run them. The package's own `snap` and `stream` use a default
 * registry, emptied whenever its `stream()` settles; tests and libraries make their own.
 */
export class Registry {
  readonly #definitions: SnapDefinition[] = [];
  readonly #names = new Map<string, number>();
  #running = false;
  /** Prototypes with legacy-decorated instance snaps, to warn about a missing `@withSnaps`. */
  readonly #legacyPrototypes = new Set<object>();
  readonly #boundInstances = new WeakSet<object>();
  /** Prototypes whose legacy instance snaps were bound to at least one instance. */
  readonly #boundPrototypes = new WeakSet<object>();
  /**
   * Standard-decorated instance snaps (`Class.method` once known, else `method`) whose class was
   * never instantiated: their initializer registers them at construction and removes them here.
   */
  readonly #unbornInstanceSnaps = new Map<object, string>();
  #anonymous = 0;
  readonly #clearOnSettle: boolean;

  constructor(options: { readonly clearOnSettle?: boolean } = {}) {
    this.#clearOnSettle = options.clearOnSettle ?? true;
  }

  /** The snaps registered so far. */
  get definitions(): readonly SnapDefinition[] {
    return [...this.#definitions];
  }

  clear(): void {
    this.#definitions.length = 0;
    this.#names.clear();
  }

  /**
   * Binds one or more sources to a handler and its sinks. Use it as a method decorator or wrap a
   * function: `const h = registry.snap(source, { sink: [print] })(fn)`.
   */
  readonly snap: SnapFunction = (...args: readonly (Source | SnapOptions)[]): SnapDecorator => {
    const { sources, options: raw } = splitArguments(args);
    const options = resolveSnapOptions(raw);
    const registry = this;

    function decorate(this: unknown, target: unknown, context?: unknown, descriptor?: PropertyDescriptor): unknown {
      // Standard (TC39) decorator.
      if (context !== null && typeof context === 'object' && 'kind' in context) {
        const ctx = context as ClassMethodDecoratorContext;
        if (ctx.kind !== 'method') {
          throw new OptionsError(`snap: Expected to decorate a method, got a ${String(ctx.kind)} (${String(ctx.name)})`);
        }
        const method = target as AnyFunction;
        const token = {};
        if (!ctx.static) registry.#unbornInstanceSnaps.set(token, String(ctx.name));
        ctx.addInitializer(function (this: unknown) {
          const owner = ctx.static ? (this as AnyFunction).name : (this as object).constructor.name;
          registry.#unbornInstanceSnaps.delete(token);
          registry.#register(sources, options, method.bind(this), `${owner}.${String(ctx.name)}`);
        });
        return undefined;
      }
      // Legacy (experimentalDecorators) method decorator.
      if (descriptor !== undefined && (typeof context === 'string' || typeof context === 'symbol')) {
        const method = descriptor.value as unknown;
        if (typeof method !== 'function') {
          throw new OptionsError(`snap: Expected to decorate a method, got ${describeValue(method)} at ${String(context)}`);
        }
        if (typeof target === 'function') {
          registry.#register(sources, options, (method as AnyFunction).bind(target), `${target.name}.${String(context)}`);
        } else {
          const pending: PendingInstanceSnap[] = Reflect.getOwnMetadata(instanceSnapsKey, target as object) ?? [];
          pending.push({ registry, method: context, sources, options });
          Reflect.defineMetadata(instanceSnapsKey, pending, target as object);
          registry.#legacyPrototypes.add(target as object);
        }
        return descriptor;
      }
      // Plain function.
      if (typeof target === 'function' && context === undefined) {
        const fn = target as AnyFunction;
        const name = registry.#register(sources, options, fn, fn.name || undefined);
        const direct = async function (this: unknown, message: unknown): Promise<unknown[]> {
          const context: SnapContext = { signal: new AbortController().signal, logger: rootLogger().child({ component: 'snap', snap: name }), source: sources[0]!, snap: name };
          return callDirect(options, sources[0]!, () => (fn.length >= 2 ? fn.call(this, message, context) : fn.call(this, message)));
        };
        Object.defineProperty(direct, 'name', { value: fn.name });
        Object.defineProperty(direct, 'length', { value: fn.length });
        return direct;
      }
      throw new OptionsError(`snap: Expected a function or a method to decorate, got ${describeValue(target)}`);
    }
    return decorate as SnapDecorator;
  };

  /**
   * Runs every registered snap until all finite sources are exhausted and all work is done, or
   * until stopped by `signal`, SIGINT or SIGTERM; resolves with a summary. Under `errors: 'stop'`
   * the first failure stops everything and rejects with a `SnapError` naming the snap.
   */
  readonly stream = async (options?: StreamOptions): Promise<StreamSummary> => {
    const resolved = resolveStreamOptions(options);
    if (this.#running) throw new SnoopyError('SNOOPY_STREAM_RUNNING', 'stream() is already running for this registry');
    this.#running = true;
    try {
      const logger: Logger = (resolved.logger ?? rootLogger()).child({ component: 'stream' });
      if (this.#definitions.length === 0) throw this.#emptyError();
      for (const proto of this.#legacyPrototypes) {
        if (Reflect.getOwnMetadata(withSnapsKey, proto) === true) continue;
        const methods = (Reflect.getOwnMetadata(instanceSnapsKey, proto) as PendingInstanceSnap[]).map((p) => `${proto.constructor.name}.${String(p.method)}`);
        logger.warn({ methods }, `@snap on instance methods of ${proto.constructor.name} never runs: with experimentalDecorators its class needs @withSnaps`);
      }
      return await new Run(this.#definitions, resolved, logger).execute();
    } finally {
      this.#running = false;
      if (this.#clearOnSettle) this.clear();
    }
  };

  /** Why nothing is registered, as far as the registry can tell. */
  #emptyError(): SnoopyError {
    const unborn = new Set(this.#unbornInstanceSnaps.values());
    const legacy: string[] = [];
    for (const proto of this.#legacyPrototypes) {
      if (this.#boundPrototypes.has(proto)) continue;
      const hint = Reflect.getOwnMetadata(withSnapsKey, proto) === true ? '' : ' (its class needs @withSnaps with experimentalDecorators)';
      for (const p of Reflect.getOwnMetadata(instanceSnapsKey, proto) as PendingInstanceSnap[]) legacy.push(`${proto.constructor.name}.${String(p.method)}${hint}`);
    }
    let why: string;
    if (legacy.length + unborn.size > 0) {
      why =
        `snaps on instance methods register only when their class is instantiated; none was for ${[...legacy, ...unborn].join(', ')}` +
        ' (create an instance with `new` before stream(), or make the methods static)';
    } else {
      why = 'call snap(source, { sink })(handler) or decorate a method with @snap before stream(); the registry is emptied each time a stream() settles';
    }
    return new SnoopyError('SNOOPY_STREAM_EMPTY', `stream() has no snap to run: ${why}`);
  }

  /** Registers the legacy-decorated instance methods of `instance`, bound to it. */
  bindInstance(instance: object): void {
    // A subclass and its base may both be decorated with @withSnaps: bind once per instance.
    if (this.#boundInstances.has(instance)) return;
    this.#boundInstances.add(instance);
    const seen = new Set<string | symbol>();
    for (let proto = Object.getPrototypeOf(instance); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      const pending: PendingInstanceSnap[] | undefined = Reflect.getOwnMetadata(instanceSnapsKey, proto);
      for (const p of pending ?? []) {
        if (p.registry !== this || seen.has(p.method)) continue;
        seen.add(p.method);
        this.#boundPrototypes.add(proto);
        const method = (instance as Record<string | symbol, AnyFunction>)[p.method]!;
        this.#register(p.sources, p.options, method.bind(instance), `${instance.constructor.name}.${String(p.method)}`);
      }
    }
  }

  #register(sources: readonly Source[], options: ResolvedSnapOptions, handler: AnyFunction, fallbackName: string | undefined): string {
    let name = options.name ?? fallbackName ?? `snap-${++this.#anonymous}`;
    const seen = this.#names.get(name) ?? 0;
    this.#names.set(name, seen + 1);
    if (seen > 0) name = `${name}#${seen + 1}`;
    this.#definitions.push(Object.freeze({ name, sources, handler, options }));
    return name;
  }
}

/** Registries that hold legacy instance snaps for a class. */
function registriesOf(prototype: object): Set<Registry> {
  const found = new Set<Registry>();
  for (let proto: object | null = prototype; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const pending: PendingInstanceSnap[] | undefined = Reflect.getOwnMetadata(instanceSnapsKey, proto);
    for (const p of pending ?? []) found.add(p.registry);
  }
  return found;
}

/**
 * Class decorator needed with `experimentalDecorators` for snaps on instance methods: legacy
 * method decorators cannot see construction, so this one registers them, bound to each new
 * instance. With standard decorators it is not needed (and does nothing).
 */
export function withSnaps<C extends abstract new (...args: any[]) => object>(target: C, context?: ClassDecoratorContext): C | void {
  if (context !== undefined) return undefined;
  Reflect.defineMetadata(withSnapsKey, true, target.prototype as object);
  const Base = target as unknown as new (...args: any[]) => object;
  const Snapped = class extends Base {
    constructor(...args: any[]) {
      super(...args);
      for (const registry of registriesOf(new.target.prototype)) registry.bindInstance(this);
    }
  };
  Object.defineProperty(Snapped, 'name', { value: target.name });
  return Snapped as unknown as C;
}
