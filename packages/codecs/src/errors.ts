import { SnoopyError, type SnoopyErrorOptions } from '@snoopy/core';

export interface CodecErrorOptions extends SnoopyErrorOptions {
  /** For an Avro value that did not encode: the path of the first offending field (`['user', 'age']`). */
  readonly path?: readonly string[];
  /** For the registry wire format: the schema id in the message, when it was read. */
  readonly schemaId?: number;
  /** For the registry wire format: the subject of the codec. */
  readonly subject?: string;
}

/**
 * A value could not be encoded (`SNOOPY_CODEC_ENCODE`), bytes could not be decoded
 * (`SNOOPY_CODEC_DECODE`), or a schema was invalid or incompatible (`SNOOPY_CODEC_SCHEMA`).
 * `codec` is the name of the codec that threw.
 *
 * One case of `SNOOPY_CODEC_DECODE` is `retriable`: a registry-framed message whose schema id the
 * codec has not loaded yet. The codec starts loading it when it throws, so decoding the same bytes
 * again later can succeed.
 */
export class CodecError extends SnoopyError {
  override name = 'CodecError';
  readonly codec: string;
  readonly path: readonly string[] | undefined;
  readonly schemaId: number | undefined;
  readonly subject: string | undefined;

  constructor(
    code: 'SNOOPY_CODEC_DECODE' | 'SNOOPY_CODEC_ENCODE' | 'SNOOPY_CODEC_SCHEMA',
    codec: string,
    message: string,
    options: CodecErrorOptions = {},
  ) {
    super(code, `${codec}: ${message}`, options);
    this.codec = codec;
    this.path = options.path;
    this.schemaId = options.schemaId;
    this.subject = options.subject;
  }
}

export interface RegistryErrorOptions extends SnoopyErrorOptions {
  /** HTTP status of the answer, if there was one. */
  readonly status?: number;
  /** The registry's own `error_code` from the answer body (Confluent API: 40401, 40403, 409...). */
  readonly registryCode?: number;
}

/**
 * The schema registry could not be reached or answered with an error (`SNOOPY_REGISTRY_REQUEST`,
 * `retriable` for network failures and 5xx answers), or has no such schema or subject
 * (`SNOOPY_REGISTRY_NOT_FOUND`).
 */
export class RegistryError extends SnoopyError {
  override name = 'RegistryError';
  readonly status: number | undefined;
  readonly registryCode: number | undefined;

  constructor(code: 'SNOOPY_REGISTRY_REQUEST' | 'SNOOPY_REGISTRY_NOT_FOUND', message: string, options: RegistryErrorOptions = {}) {
    super(code, message, options);
    this.status = options.status;
    this.registryCode = options.registryCode;
  }
}

/** A short, printable preview of some bytes for error messages: hex of the first 16 and the length. */
export function previewBytes(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return bytes.byteLength === 0 ? '<0 bytes>' : `<${head}${bytes.byteLength > 16 ? ' …' : ''}> (${bytes.byteLength} bytes)`;
}

/** A short preview of bytes meant to be text, for error messages: the first 40 characters and the length. */
export function previewText(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return '<0 bytes>';
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 40)).toString('utf8');
  return `${JSON.stringify(head)}${bytes.byteLength > 40 ? '…' : ''} (${bytes.byteLength} bytes)`;
}
