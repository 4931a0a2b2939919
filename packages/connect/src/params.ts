import { describeValue, OptionsError } from '@snoopy/core';
import { ParamError } from './errors.js';

export type ParamType = 'text' | 'secret' | 'number' | 'list' | 'boolean';

/** One declared parameter of a data source (`static params = [...]`). */
export interface ParamSpec {
  /** Key in `this.params`; the command-line flag is its kebab-case form (`apiKey` -> `--api-key`). */
  readonly name: string;
  /** Human label. @default name */
  readonly title?: string;
  /**
   * `text` and `secret` are strings (a secret never appears in logs, errors or `toJSON()`),
   * `number` a finite number, `boolean` true/false, `list` an array of strings (each one of
   * `values` when given).
   */
  readonly type: ParamType;
  /** Missing or empty fails before the first read. @default false */
  readonly required?: boolean;
  /** Example value shown in `--help`. @default undefined */
  readonly placeholder?: string;
  /** One line of help for `--help`. @default undefined */
  readonly help?: string;
  /** The allowed values of a `list` (or a `text`). @default undefined (any) */
  readonly values?: readonly string[];
}

const types: readonly ParamType[] = ['text', 'secret', 'number', 'list', 'boolean'];
const specKeys = ['name', 'title', 'type', 'required', 'placeholder', 'help', 'values'];

/** Checks a source's declarations (a wrong one is the author's bug: `SNOOPY_OPTIONS_INVALID`). */
export function checkParamSpecs(where: string, specs: unknown): readonly ParamSpec[] {
  if (!Array.isArray(specs)) throw new OptionsError(`${where}: Expected \`static params\` to be an array, got ${describeValue(specs)}`);
  const seen = new Set<string>();
  specs.forEach((s: unknown, i) => {
    const at = `${where}: params[${i}]`;
    if (s === null || typeof s !== 'object') throw new OptionsError(`${at}: Expected an object, got ${describeValue(s)}`);
    const spec = s as Record<string, unknown>;
    for (const key of Object.keys(spec)) {
      if (!specKeys.includes(key)) throw new OptionsError(`${at}: Expected \`${key}\` to be absent (known: ${specKeys.join(', ')}), got ${describeValue(spec[key])}`);
    }
    if (typeof spec.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(spec.name)) {
      throw new OptionsError(`${at}: Expected \`name\` to be an identifier, got ${describeValue(spec.name)}`);
    }
    if (seen.has(spec.name)) throw new OptionsError(`${at}: Expected \`name\` to be unique, got ${describeValue(spec.name)} twice`);
    seen.add(spec.name);
    if (!types.includes(spec.type as ParamType)) throw new OptionsError(`${at}: Expected \`type\` to be one of ${types.join(', ')}, got ${describeValue(spec.type)}`);
    if (spec.values !== undefined && (!Array.isArray(spec.values) || spec.values.some((v) => typeof v !== 'string'))) {
      throw new OptionsError(`${at}: Expected \`values\` to be an array of strings, got ${describeValue(spec.values)}`);
    }
  });
  return specs as readonly ParamSpec[];
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/**
 * Validates and coerces raw values (strings from a command line, or typed values from code)
 * against the declarations; returns a frozen object. A ParamError names the parameter and,
 * unless it is a secret, the value.
 */
export function validateParams(where: string, specs: readonly ParamSpec[], raw: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (raw === null || typeof raw !== 'object') throw new OptionsError(`${where}: Expected \`params\` to be an object, got ${describeValue(raw)}`);
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ParamError(where, key, `is not declared (known: ${[...known].join(', ') || 'none'})`);
  }
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = raw[spec.name];
    if (isEmpty(value)) {
      if (spec.required === true) throw new ParamError(where, spec.name, 'is required');
      continue;
    }
    const shown = spec.type === 'secret' ? '(secret, not shown)' : describeValue(value);
    switch (spec.type) {
      case 'text':
      case 'secret':
        if (typeof value !== 'string') throw new ParamError(where, spec.name, `must be text, got ${shown}`);
        if (spec.values !== undefined && !spec.values.includes(value)) throw new ParamError(where, spec.name, `must be one of ${spec.values.join(', ')}, got ${shown}`);
        out[spec.name] = value;
        break;
      case 'number': {
        const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isFinite(n)) throw new ParamError(where, spec.name, `must be a number, got ${shown}`);
        out[spec.name] = n;
        break;
      }
      case 'boolean': {
        const b = value === 'true' ? true : value === 'false' ? false : value;
        if (typeof b !== 'boolean') throw new ParamError(where, spec.name, `must be true or false, got ${shown}`);
        out[spec.name] = b;
        break;
      }
      case 'list': {
        const list = typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : value;
        if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) throw new ParamError(where, spec.name, `must be a list of text, got ${shown}`);
        const bad = spec.values === undefined ? undefined : list.find((v) => !spec.values!.includes(v as string));
        if (bad !== undefined) throw new ParamError(where, spec.name, `must only hold ${spec.values!.join(', ')}, got ${describeValue(bad)}`);
        out[spec.name] = Object.freeze([...list]);
        break;
      }
    }
  }
  return Object.freeze(out);
}

/** The values of secret parameters, for scrubbing. */
export function secretValues(specs: readonly ParamSpec[], params: Readonly<Record<string, unknown>>): string[] {
  return specs.filter((s) => s.type === 'secret' && typeof params[s.name] === 'string' && params[s.name] !== '').map((s) => params[s.name] as string);
}

/** `apiKey` -> `api-key`. */
export function flagName(param: string): string {
  return param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-');
}
