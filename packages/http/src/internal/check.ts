import { OptionsError, describeValue } from '@snoopy/core';

/** @internal Validation helpers shared by the option resolvers. */
export function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new OptionsError(`${where}: Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`);
}

export function int(where: string, field: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(where, field, `an integer >= ${min}`, value);
  return value;
}

export function bool(where: string, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(where, field, 'a boolean', value);
  return value;
}

export function str(where: string, field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') fail(where, field, 'a non-empty string', value);
  return value;
}

export function plainObject(where: string, field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, field, 'an object', value);
  return value as Record<string, unknown>;
}

/** Refuses keys that are not in `known`, naming the known ones. */
export function knownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(where, key, `absent (known options: ${known.join(', ')})`, (options as Record<string, unknown>)[key]);
  }
}

export function isCodec(value: unknown): boolean {
  const c = value as { encode?: unknown; decode?: unknown } | null;
  return c !== null && typeof c === 'object' && typeof c.encode === 'function' && typeof c.decode === 'function';
}
