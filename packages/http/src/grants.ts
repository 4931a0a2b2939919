import { randomUUID } from 'node:crypto';
import { OptionsError, describeValue } from '@snoopy/core';
import { SignJWT, errors as joseErrors, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { HttpError } from './errors.js';
import { compileFilter, type Predicate } from './filter.js';
import { fail, knownKeys, plainObject } from './internal/check.js';

/** What a grant allows: reading a topic as a filtered stream, or publishing to it. */
export type GrantScope = 'read' | 'publish';

/** A signing key. HS256 takes a `secret` (base64url, at least 32 bytes); ES256 and EdDSA a JWK pair. */
export interface GrantKey {
  /** Key id, written into each token's header so that keys can rotate. */
  readonly kid: string;
  readonly secret?: string;
  readonly privateJwk?: JWK;
  readonly publicJwk?: JWK;
}

export interface GrantsOptions {
  /** Keys; the first signs new tokens, all verify (rotation: put the new key first, keep the old one a while). */
  readonly keys: readonly GrantKey[];
  /** The one algorithm accepted; tokens with any other (`none`, HS/RS confusion) are refused. @default 'HS256' */
  readonly algorithm?: 'HS256' | 'ES256' | 'EdDSA';
  /** `iss` of issued tokens, required on verified ones. @default 'snoopy' */
  readonly issuer?: string;
  /** Seconds of clock skew tolerated on `exp`. @default 5 */
  readonly clockToleranceSec?: number;
}

export interface IssueOptions {
  readonly topic: string;
  readonly scope: GrantScope;
  /** Who the token is for (`sub`). */
  readonly subject: string;
  /** A filter (the WHERE subset, see `compileFilter`); checked here, refused with its position. */
  readonly where?: string;
  /** Values of the filter's `:name` parameters. */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  /** Lifetime in seconds, or a jose time span (`'1h'`, `'30m'`). */
  readonly ttl: number | string;
}

/** A verified grant. */
export interface Grant {
  readonly jti: string;
  readonly topic: string;
  readonly scope: GrantScope;
  readonly subject: string;
  readonly where: string | undefined;
  readonly params: Readonly<Record<string, string | number | boolean | null>>;
  /** Seconds since the epoch. */
  readonly exp: number;
  /** The compiled filter (always true without `where`). */
  readonly filter: Predicate;
}

interface Claims extends JWTPayload {
  topic?: unknown;
  scope?: unknown;
  where?: unknown;
  params?: unknown;
}

type Key = Awaited<ReturnType<typeof importJWK>>;

function grantError(status: 401 | 403, message: string, cause?: unknown): HttpError {
  return new HttpError('SNOOPY_HTTP_GRANT', message, { status, cause });
}

/**
 * Signed grants (JWT via jose): `issue()` makes a token for one topic and scope, optionally
 * with a filter; `verify()` checks signature, pinned algorithm, issuer, expiry, revocation, topic
 * and scope; `revoke(jti)` takes effect at once for new requests and, through `onRevoke`, for
 * open streams.
 */
export class Grants {
  readonly algorithm: 'HS256' | 'ES256' | 'EdDSA';
  readonly issuer: string;
  readonly #tolerance: number;
  readonly #signKid: string;
  readonly #sign: Promise<Key>;
  readonly #verify: Map<string, Promise<Key>>;
  readonly #revoked = new Map<string, number>();
  /** Tokens already verified (signature, issuer, claims), until they expire; revocation is checked on every use. */
  readonly #verified = new Map<string, Grant>();
  readonly #listeners = new Set<(jti: string) => void>();

  constructor(options: GrantsOptions) {
    const where = 'grants';
    const o = plainObject(where, 'options', options);
    knownKeys(where, o, ['keys', 'algorithm', 'issuer', 'clockToleranceSec']);
    const alg = (o.algorithm ?? 'HS256') as Grants['algorithm'];
    if (alg !== 'HS256' && alg !== 'ES256' && alg !== 'EdDSA') fail(where, 'algorithm', "'HS256', 'ES256' or 'EdDSA'", o.algorithm);
    this.algorithm = alg;
    if (!Array.isArray(o.keys) || o.keys.length === 0) fail(where, 'keys', 'a non-empty array of { kid, secret } or { kid, privateJwk, publicJwk }', o.keys);
    this.issuer = o.issuer === undefined ? 'snoopy' : (o.issuer as string);
    if (typeof this.issuer !== 'string' || this.issuer === '') fail(where, 'issuer', 'a non-empty string', o.issuer);
    this.#tolerance = o.clockToleranceSec === undefined ? 5 : (o.clockToleranceSec as number);
    if (!Number.isInteger(this.#tolerance) || this.#tolerance < 0) fail(where, 'clockToleranceSec', 'an integer >= 0', o.clockToleranceSec);
    const keys = o.keys as GrantKey[];
    this.#verify = new Map();
    keys.forEach((k, i) => {
      if (k === null || typeof k !== 'object' || typeof k.kid !== 'string' || k.kid === '') fail(where, `keys[${i}].kid`, 'a non-empty string', k?.kid);
      if (alg === 'HS256') {
        const bytes = typeof k.secret === 'string' ? Buffer.from(k.secret, 'base64url') : Buffer.alloc(0);
        if (bytes.length < 32) fail(where, `keys[${i}].secret`, 'a base64url string of at least 32 bytes for HS256', k.secret);
        this.#verify.set(k.kid, Promise.resolve(new Uint8Array(bytes)));
      } else {
        if (!k.publicJwk) fail(where, `keys[${i}].publicJwk`, `a public JWK for ${alg}`, k.publicJwk);
        const p = importJWK(k.publicJwk, alg) as Promise<Key>;
        p.catch(() => {});
        this.#verify.set(k.kid, p);
      }
    });
    const first = keys[0]!;
    this.#signKid = first.kid;
    if (alg === 'HS256') this.#sign = this.#verify.get(first.kid)!;
    else {
      if (!first.privateJwk) fail(where, 'keys[0].privateJwk', `a private JWK for ${alg} (the first key signs)`, first.privateJwk);
      this.#sign = importJWK(first.privateJwk, alg) as Promise<Key>;
      this.#sign.catch(() => {});
    }
  }

  /** Signs a grant; a `where` outside the filter subset fails here with `SNOOPY_HTTP_FILTER` and its position. */
  async issue(options: IssueOptions): Promise<string> {
    const where = 'grants.issue';
    const o = plainObject(where, 'options', options) as unknown as IssueOptions;
    knownKeys(where, o, ['topic', 'scope', 'subject', 'where', 'params', 'ttl']);
    if (typeof o.topic !== 'string' || o.topic === '') fail(where, 'topic', 'a non-empty string', o.topic);
    if (o.scope !== 'read' && o.scope !== 'publish') fail(where, 'scope', "'read' or 'publish'", o.scope);
    if (typeof o.subject !== 'string' || o.subject === '') fail(where, 'subject', 'a non-empty string', o.subject);
    if (!(typeof o.ttl === 'number' && Number.isInteger(o.ttl) && o.ttl > 0) && !(typeof o.ttl === 'string' && /^\d+\s*[a-z]+$/i.test(o.ttl))) {
      throw new OptionsError(`${where}: Expected \`ttl\` to be a positive integer of seconds or a span like '1h', got ${describeValue(o.ttl)}`);
    }
    if (o.where !== undefined) compileFilter(o.where, o.params ?? {});
    else if (o.params !== undefined) fail(where, 'params', 'absent without `where`', o.params);
    const claims: Claims = { topic: o.topic, scope: o.scope };
    if (o.where !== undefined) claims.where = o.where;
    if (o.params !== undefined) claims.params = o.params;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: this.algorithm, kid: this.#signKid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(o.subject)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(typeof o.ttl === 'number' ? Math.floor(Date.now() / 1000) + o.ttl : o.ttl);
    return jwt.sign(await this.#sign);
  }

  /**
   * Verifies `token` for `topic` and `scope`: 401 (`status` on the `HttpError`) for a missing,
   * malformed, forged, expired or revoked token or another algorithm; 403 for another topic or scope.
   */
  async verify(token: string | undefined, topic: string, scope: GrantScope): Promise<Grant> {
    if (!token) throw grantError(401, 'Missing grant token');
    const cached = this.#verified.get(token);
    if (cached !== undefined && cached.exp * 1000 > Date.now() + this.#tolerance * 1000) return this.#check(cached, topic, scope);
    const grant = await this.#verifyToken(token);
    if (this.#verified.size >= 10_000) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, grant);
    return this.#check(grant, topic, scope);
  }

  #check(grant: Grant, topic: string, scope: GrantScope): Grant {
    if (this.#revoked.has(grant.jti)) throw grantError(401, 'Grant revoked');
    if (grant.topic !== topic) throw grantError(403, 'Grant is for another topic');
    if (grant.scope !== scope) throw grantError(403, `Grant does not allow ${scope}`);
    return grant;
  }

  async #verifyToken(token: string): Promise<Grant> {
    let payload: Claims;
    try {
      ({ payload } = await jwtVerify<Claims>(
        token,
        async (header) => {
          const key = header.kid === undefined ? undefined : this.#verify.get(header.kid);
          if (!key) throw grantError(401, `Unknown key id ${JSON.stringify(header.kid)}`);
          return key;
        },
        { algorithms: [this.algorithm], issuer: this.issuer, clockTolerance: this.#tolerance, requiredClaims: ['exp', 'jti', 'sub'] },
      ));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const why = error instanceof joseErrors.JWTExpired ? 'Grant expired' : error instanceof joseErrors.JOSEAlgNotAllowed ? 'Grant algorithm not allowed' : 'Invalid grant token';
      throw grantError(401, why, error);
    }
    const jti = payload.jti!;
    if (typeof payload.topic !== 'string' || (payload.scope !== 'read' && payload.scope !== 'publish')) throw grantError(401, 'Grant has no topic or scope');
    const params = (payload.params ?? {}) as Record<string, string | number | boolean | null>;
    const where = typeof payload.where === 'string' ? payload.where : undefined;
    let filter: Predicate = () => true;
    if (where !== undefined) {
      try {
        filter = compileFilter(where, params);
      } catch (cause) {
        throw grantError(401, 'Grant filter is invalid', cause);
      }
    }
    return Object.freeze({ jti, topic: payload.topic, scope: payload.scope, subject: payload.sub!, where, params, exp: payload.exp!, filter });
  }

  /** Revokes a grant by its `jti`: refused from now on, and open streams that use it are closed. */
  revoke(jti: string, expiresAt = Math.floor(Date.now() / 1000) + 86_400 * 365): void {
    this.#revoked.set(jti, expiresAt);
    for (const l of this.#listeners) l(jti);
  }

  isRevoked(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  /** Calls `listener(jti)` on every revocation; returns the function that removes it. */
  onRevoke(listener: (jti: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
