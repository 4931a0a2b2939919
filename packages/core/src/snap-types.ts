/**
 * The types that carry a snap's sources and sinks through to its handler: the handler's first
 * parameter is checked against the items of the sources (the union, for several), what it
 * produces against the input of every sink. Compile-time only; nothing here exists at run time.
 */
import type { SnapContext } from './context.js';
import type { SnapOptions, Source } from './options.js';
import type { Completion, deliver, FailedItem } from './protocol.js';

type AnyFunction = (...args: any[]) => any;

/** `true` for `unknown` (and `any`): a source or sink that says nothing about its type. */
type IsUnknown<T> = unknown extends T ? true : false;

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/**
 * What a handler receives from a source: `T` of an `AsyncIterable<T>` or an `Iterable<T>`, less
 * `FailedItem` (core routes those through the error policy; they never reach the handler).
 */
export type SourceItem<S> = Exclude<S extends AsyncIterable<infer T> ? T : S extends Iterable<infer T> ? T : never, FailedItem>;

/**
 * What a sink accepts: `T` of a `DeferredSink<T>` (a Kafka `Topic<V, K>` takes `V | [K, V]`, a
 * `Cache<V, K>` takes `[K, V]`), else the first parameter of a function sink.
 */
export type SinkInput<K> = K extends { [deliver](value: infer T, completion: Completion): unknown }
  ? T
  : K extends (value: infer T, ...rest: any[]) => unknown
    ? T
    : unknown;

/** The sinks listed in snap options, as a union. */
type SinksOf<O> = O extends { readonly sink?: infer K } ? (K extends readonly unknown[] ? K[number] : K) : never;

/** One sink's input in a box, so that intersecting several sinks keeps each one's own union. */
type BoxedInput<K> = K extends unknown ? { readonly input: SinkInput<K> } : never;

/** What every sink of `O` accepts: the intersection of their inputs (`unknown` without sinks). */
export type SnapOutput<O> = [SinksOf<O>] extends [never]
  ? unknown
  : UnionToIntersection<BoxedInput<Exclude<SinksOf<O>, undefined>>> extends { readonly input: infer T }
    ? T
    : never;

/** What the handler receives: one item, or an array of items under `batch`. */
export type SnapInput<Item, O> = O extends { readonly batch: object } ? Item[] : Item;

/**
 * What a handler may return for sinks that accept `Out`: a value, `undefined` (nothing sent), a
 * promise of either, or a (sync or async) generator of them.
 */
export type HandlerResult<Out> =
  | Out
  | undefined
  | void
  | PromiseLike<Out | undefined | void | Generator<Out | undefined, any, any> | AsyncGenerator<Out | undefined, any, any>>
  | Generator<Out | undefined, any, any>
  | AsyncGenerator<Out | undefined, any, any>;

/**
 * The shape a handler must have. A source that yields `unknown` (or `any`) checks nothing, so
 * that an untyped source still takes a typed handler; a handler may declare fewer parameters.
 */
export type SnapHandler<In, Out, This = unknown> = (
  this: This,
  message: IsUnknown<In> extends true ? any : In,
  context: SnapContext,
) => HandlerResult<Out>;

/**
 * `h(msg)` runs the handler (with a context, if it declares one) and its sinks once and resolves
 * with the values sent to the sinks.
 */
export type SnappedFunction<F extends AnyFunction> = (message: Parameters<F>[0]) => Promise<unknown[]>;

/**
 * What `snap(...)` returns: a decorator for methods (standard or `experimentalDecorators`) and
 * a wrapper for plain functions, each checking the handler against `In` (what the sources yield,
 * an array of it under `batch`) and `Out` (what every sink accepts).
 */
export interface SnapDecorator<In = any, Out = unknown> {
  <This, F extends SnapHandler<In, Out, This>>(method: F, context: ClassMethodDecoratorContext<This, F>): void;
  <F extends SnapHandler<In, Out>>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<F>): void;
  <F extends SnapHandler<In, Out>>(fn: F): SnappedFunction<F>;
}

/**
 * `snap(...sources, options?)`: the item type of the sources and the input types of the sinks
 * become the decorator's `In` and `Out`.
 */
export interface SnapFunction {
  <S extends readonly Source[]>(...sources: S): SnapDecorator<SourceItem<S[number]>, unknown>;
  <S extends readonly Source[], O extends SnapOptions>(
    ...args: [...sources: S, options: O]
  ): SnapDecorator<SnapInput<SourceItem<S[number]>, O>, SnapOutput<O>>;
}
