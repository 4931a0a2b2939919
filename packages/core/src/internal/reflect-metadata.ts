import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The functions `reflect-metadata` puts on `Reflect`. */
const api = [
  'decorate',
  'metadata',
  'defineMetadata',
  'hasMetadata',
  'hasOwnMetadata',
  'getMetadata',
  'getOwnMetadata',
  'getMetadataKeys',
  'getOwnMetadataKeys',
  'deleteMetadata',
] as const;

const target = Reflect as unknown as Record<string, unknown>;
const stubs = new Set<unknown>();

/** Replaces the stand-ins with the real polyfill (which defines every function of `api`). */
function load(): void {
  for (const key of api) if (stubs.has(target[key])) delete target[key];
  stubs.clear();
  require('reflect-metadata');
}

/**
 * The `reflect-metadata` polyfill, as importing `@snoopy/core` has always installed it (TypeScript's
 * `experimentalDecorators` and `emitDecoratorMetadata` output, and Nest, call `Reflect.decorate`,
 * `Reflect.metadata` and `Reflect.getMetadata`), loaded on the first call of one of its functions
 * rather than at import: its 64 kB cost every worker ~25 ms of start-up, and only legacy decorators
 * use it. Each stand-in loads it and calls the real function; a polyfill already there is kept,
 * and one imported later replaces the stand-ins.
 */
export function installReflectMetadata(): void {
  for (const key of api) {
    if (typeof target[key] === 'function') continue;
    const stub = function (this: unknown, ...args: unknown[]): unknown {
      if (stubs.has(target[key])) load();
      return (target[key] as (...args: unknown[]) => unknown).apply(this, args);
    };
    Object.defineProperty(stub, 'name', { value: key });
    stubs.add(stub);
    Object.defineProperty(target, key, { configurable: true, writable: true, value: stub });
  }
}
