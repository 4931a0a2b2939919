import { readFileSync } from 'node:fs';
import type * as avro from 'avsc';
import { describeValue } from '@snoopy/core';
import { CodecError } from '../errors.js';
import type { AvroSchema } from '../options.js';
import { loadAvsc } from './avsc.js';
import { logicalTypes } from './logical-types.js';
import { safeIntType } from './int-type.js';
import { safeLongType } from './long-type.js';
import { safeMapType } from './map-type.js';

/** The schema as a parsed JSON value, from an object, JSON text or an `.avsc` path. */
export function loadSchema(codec: string, input: AvroSchema): unknown {
  if (typeof input !== 'string') return input;
  const text = input.trimStart();
  if (text.startsWith('{') || text.startsWith('[') || text.startsWith('"')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new CodecError('SNOOPY_CODEC_SCHEMA', codec, `schema is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  let fileText: string;
  try {
    fileText = readFileSync(input, 'utf8');
  } catch (error) {
    throw new CodecError('SNOOPY_CODEC_SCHEMA', codec, `cannot read schema file ${JSON.stringify(input)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(fileText);
  } catch (error) {
    throw new CodecError('SNOOPY_CODEC_SCHEMA', codec, `schema file ${JSON.stringify(input)} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Makes values of record types (and wrapped union branches) plain objects: avsc builds them with
 * a generated constructor; giving it `Object.prototype` as its prototype makes `new Record(...)`
 * an ordinary object with the same fast, fixed shape.
 */
function plainValues(type: avro.Type, seen: Set<avro.Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  const t = type as avro.Type & Record<string, unknown>;
  if (loadAvsc().Type.isType(type, 'logical')) return plainValues((type as avro.types.LogicalType).underlyingType, seen);
  switch (type.typeName) {
    case 'record':
      (t.recordConstructor as { prototype: object }).prototype = Object.prototype;
      for (const field of (type as avro.types.RecordType).fields) plainValues(field.type, seen);
      return;
    case 'error':
      for (const field of (type as avro.types.RecordType).fields) plainValues(field.type, seen);
      return;
    case 'array':
      return plainValues((type as avro.types.ArrayType).itemsType, seen);
    case 'map':
      return plainValues((type as avro.types.MapType).valuesType, seen);
    case 'union:wrapped':
      for (const branch of (type as avro.types.WrappedUnionType).types) {
        const wrap = (branch as unknown as { _branchConstructor: { prototype: object } | null })._branchConstructor;
        if (wrap) wrap.prototype = Object.prototype; // `null` has none: it is not wrapped.
        plainValues(branch, seen);
      }
      return;
    case 'union:unwrapped':
      for (const branch of (type as avro.types.UnwrappedUnionType).types) plainValues(branch, seen);
      return;
    default:
      return;
  }
}

/**
 * An avsc type with snoopy's logical types, its exact `long` and checked `int`, and plain-object
 * values (maps keep a `__proto__` key).
 */
export function createType(codec: string, schema: unknown): avro.Type {
  const { Type } = loadAvsc();
  const logical = logicalTypes();
  const long = new (safeLongType())();
  const int = new (safeIntType())();
  const SafeMapType = safeMapType();
  let type: avro.Type;
  try {
    type = Type.forSchema(schema as avro.Schema, {
      logicalTypes: logical as never,
      omitRecordMethods: true,
      wrapUnions: 'auto',
      typeHook: (s, opts) => {
        if (s === 'long') return long;
        if (s === 'int') return int;
        if (s !== null && typeof s === 'object') {
          const { type, logicalType } = s as { type?: unknown; logicalType?: unknown };
          // A logical type snoopy implements gets its own underlying type; any other is its underlying type.
          const handled = typeof logicalType === 'string' && logicalType in logical;
          if (type === 'long' && !handled) return long;
          if (type === 'int' && !handled) return int;
          if (type === 'map') return new SafeMapType(s as never, opts);
        }
        return undefined;
      },
    });
  } catch (error) {
    throw new CodecError('SNOOPY_CODEC_SCHEMA', codec, `invalid Avro schema ${describeValue(schema)}: ${(error as Error).message}`, { cause: error });
  }
  plainValues(type, new Set());
  return type;
}

/** A short name for messages: the full name of a named type, or its type name. */
export function typeLabel(type: avro.Type): string {
  return type.name ?? type.typeName;
}
