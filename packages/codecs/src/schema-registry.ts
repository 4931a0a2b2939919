import { rootLogger, type Logger } from '@snoopy/core';
import { RegistryError } from './errors.js';
import { resolveSchemaRegistryOptions, type ResolvedSchemaRegistryOptions, type SchemaRegistryOptions } from './options.js';

/** A schema as the registry holds it. */
export interface RegisteredSchema {
  readonly id: number;
  /** The schema text, as registered. */
  readonly schema: string;
  /** `AVRO`, `JSON` or `PROTOBUF` (the registry leaves it out for Avro). */
  readonly schemaType: string;
  /** Set when the schema was fetched through a subject. */
  readonly subject?: string;
  readonly version?: number;
  /** Schema references, as the registry returned them; snoopy's Avro codec does not resolve them. */
  readonly references?: readonly unknown[];
}

interface RegistryAnswer {
  id?: number;
  schema?: string;
  schemaType?: string;
  subject?: string;
  version?: number;
  references?: unknown[];
  error_code?: number;
  message?: string;
}

const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

/**
 * A small client of the Confluent Schema Registry REST API (also served by Karapace, Redpanda and
 * Apicurio's compatibility API): register a schema under a subject, look one up, fetch by id, the
 * latest version of a subject.
 *
 * Answers that never change are cached for the life of the client: schemas by id, ids of
 * registered schemas, subject versions. Concurrent calls for the same thing share one request, and
 * a failed request is not cached. `latest()` is cached for `latestTtlMs`. So a steady stream,
 * after its codecs' `init()`, makes no HTTP calls; `requests` counts the ones made.
 */
export class SchemaRegistry {
  readonly url: string;
  readonly #options: ResolvedSchemaRegistryOptions;
  readonly #authorization: string | undefined;
  readonly #logger: Logger;
  readonly #byId = new Map<number, Promise<RegisteredSchema>>();
  readonly #ids = new Map<string, Promise<number>>();
  readonly #lookups = new Map<string, Promise<RegisteredSchema>>();
  readonly #versions = new Map<string, Promise<RegisteredSchema>>();
  readonly #latest = new Map<string, { at: number; answer: Promise<RegisteredSchema> }>();
  #requests = 0;

  constructor(options: SchemaRegistryOptions) {
    this.#options = resolveSchemaRegistryOptions(options);
    this.url = this.#options.url;
    const auth = this.#options.auth;
    this.#authorization = auth === undefined ? undefined
      : 'token' in auth ? `Bearer ${auth.token}`
      : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    this.#logger = rootLogger().child({ component: 'schema-registry', url: this.url });
  }

  /** How many HTTP requests this client has made. */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Registers `schema` under `subject` (or finds it there, if it is already registered) and
   * returns its id. Cached: registering the same schema again makes no request.
   */
  register(subject: string, schema: string | object, schemaType = 'AVRO'): Promise<number> {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    return this.#cached(this.#ids, `${subject}\n${schemaType}\n${text}`, async () => {
      const body: Record<string, unknown> = { schema: text };
      if (schemaType !== 'AVRO') body.schemaType = schemaType;
      const answer = await this.#request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body);
      if (typeof answer.id !== 'number') throw this.#malformed('register', answer);
      this.#byId.set(answer.id, Promise.resolve({ id: answer.id, schema: text, schemaType }));
      return answer.id;
    });
  }

  /** The id and version `schema` has under `subject`; `SNOOPY_REGISTRY_NOT_FOUND` if it is not registered there. Cached. */
  lookup(subject: string, schema: string | object, schemaType = 'AVRO'): Promise<RegisteredSchema> {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    return this.#cached(this.#lookups, `${subject}\n${schemaType}\n${text}`, async () => {
      const body: Record<string, unknown> = { schema: text };
      if (schemaType !== 'AVRO') body.schemaType = schemaType;
      return this.#remember(await this.#request('POST', `/subjects/${encodeURIComponent(subject)}`, body), 'lookup', subject);
    });
  }

  /** The schema with this id. Cached: ids never change. */
  schemaById(id: number): Promise<RegisteredSchema> {
    return this.#cached(this.#byId, id, async () => {
      const answer = await this.#request('GET', `/schemas/ids/${id}`);
      if (typeof answer.schema !== 'string') throw this.#malformed('schema by id', answer);
      return freeze({ id, schema: answer.schema, schemaType: answer.schemaType ?? 'AVRO', references: answer.references });
    });
  }

  /** One version of a subject. Cached: a version never changes. */
  version(subject: string, version: number): Promise<RegisteredSchema> {
    return this.#cached(this.#versions, `${subject}\n${version}`, async () =>
      this.#remember(await this.#request('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`), 'version', subject),
    );
  }

  /** The version numbers registered under a subject, oldest first. Not cached. */
  async versions(subject: string): Promise<number[]> {
    const answer = (await this.#request('GET', `/subjects/${encodeURIComponent(subject)}/versions`)) as unknown;
    if (!Array.isArray(answer) || !answer.every((v) => typeof v === 'number')) throw this.#malformed('versions', answer);
    return answer as number[];
  }

  /** The latest version of a subject. Cached for `latestTtlMs`. */
  latest(subject: string): Promise<RegisteredSchema> {
    const hit = this.#latest.get(subject);
    if (hit && Date.now() - hit.at < this.#options.latestTtlMs) return hit.answer;
    const answer = this.#request('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`).then((a) => this.#remember(a, 'latest', subject));
    this.#latest.set(subject, { at: Date.now(), answer });
    answer.catch(() => {
      if (this.#latest.get(subject)?.answer === answer) this.#latest.delete(subject);
    });
    return answer;
  }

  #remember(answer: RegistryAnswer, what: string, subject: string): RegisteredSchema {
    if (typeof answer.id !== 'number' || typeof answer.schema !== 'string') throw this.#malformed(what, answer);
    const registered = freeze({
      id: answer.id,
      schema: answer.schema,
      schemaType: answer.schemaType ?? 'AVRO',
      subject: answer.subject ?? subject,
      version: answer.version,
      references: answer.references,
    });
    if (!this.#byId.has(registered.id)) this.#byId.set(registered.id, Promise.resolve(registered));
    return registered;
  }

  #cached<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    const hit = cache.get(key);
    if (hit) return hit;
    const promise = load();
    cache.set(key, promise);
    promise.catch(() => {
      if (cache.get(key) === promise) cache.delete(key);
    });
    return promise;
  }

  #malformed(what: string, answer: unknown): RegistryError {
    return new RegistryError('SNOOPY_REGISTRY_REQUEST', `Schema registry ${this.url}: unexpected answer to ${what}: ${JSON.stringify(answer)?.slice(0, 200)}`, { retriable: false });
  }

  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<RegistryAnswer> {
    const headers: Record<string, string> = { accept: `${MEDIA_TYPE}, application/json` };
    if (body !== undefined) headers['content-type'] = MEDIA_TYPE;
    if (this.#authorization) headers.authorization = this.#authorization;
    this.#requests++;
    this.#logger.debug({ method, path }, 'schema registry request');
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new RegistryError('SNOOPY_REGISTRY_REQUEST', `Schema registry ${this.url}: ${method} ${path} failed: ${(error as Error).message}`, { cause: error });
    }
    let answer: RegistryAnswer;
    try {
      answer = text === '' ? {} : (JSON.parse(text) as RegistryAnswer);
    } catch (error) {
      throw new RegistryError('SNOOPY_REGISTRY_REQUEST', `Schema registry ${this.url}: ${method} ${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`, {
        cause: error,
        status: response.status,
        retriable: response.status >= 500,
      });
    }
    if (response.ok) return answer;
    const detail = `${method} ${path} answered ${response.status}${answer.error_code ? ` (error ${answer.error_code})` : ''}: ${answer.message ?? text.slice(0, 200)}`;
    const options = { status: response.status, ...(answer.error_code === undefined ? {} : { registryCode: answer.error_code }) };
    if (response.status === 404) throw new RegistryError('SNOOPY_REGISTRY_NOT_FOUND', `Schema registry ${this.url}: ${detail}`, options);
    throw new RegistryError('SNOOPY_REGISTRY_REQUEST', `Schema registry ${this.url}: ${detail}`, { ...options, retriable: response.status >= 500 || response.status === 429 });
  }
}

function freeze<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return Object.freeze(value);
}
