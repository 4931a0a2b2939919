import { createHmac, timingSafeEqual } from 'node:crypto';
import { OptionsError, describeValue } from '@snoopy/core';
import { HttpError } from './errors.js';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): secrets in the `whsec_<base64>`
 * form, `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, several
 * space-separated signatures while secrets rotate.
 */
const PREFIX = 'whsec_';

/** The key bytes of a `whsec_<base64>` secret (a bare base64 string is accepted too). */
export function secretKey(secret: string, where = 'secret'): Buffer {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new OptionsError(`${where}: Expected a secret like \`whsec_<base64>\`, got ${describeValue(secret)}`);
  }
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new OptionsError(`${where}: Expected a secret like \`whsec_<base64 of at least 16 bytes>\`, got \`${secret.slice(0, 10)}…\` (string)`);
  }
  return key;
}

/** A fresh random secret in the `whsec_` form (24 bytes, as the reference libraries make). */
export function generateSecret(): string {
  return PREFIX + Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(24))).toString('base64');
}

function hmac(key: Buffer, id: string, timestamp: number, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value: one `v1,<sig>` per key, space-separated. */
export function sign(keys: readonly Buffer[], id: string, timestamp: number, body: Buffer | string): string {
  let out = '';
  for (const key of keys) out += (out ? ' ' : '') + 'v1,' + hmac(key, id, timestamp, body).toString('base64');
  return out;
}

export interface VerifyInput {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: Buffer;
}

/**
 * Checks a request's signature against every key, in constant time per comparison, and its
 * timestamp against `toleranceSec` both ways. Returns the timestamp (seconds); throws an
 * `HttpError` with `SNOOPY_HTTP_SIGNATURE` or `SNOOPY_HTTP_TIMESTAMP` otherwise.
 */
export function verify(keys: readonly Buffer[], input: VerifyInput, toleranceSec: number, nowMs = Date.now()): number {
  const { id, timestamp, signature, body } = input;
  if (!id || !timestamp || !signature) throw new HttpError('SNOOPY_HTTP_SIGNATURE', 'Missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,12}$/.test(timestamp)) throw new HttpError('SNOOPY_HTTP_TIMESTAMP', `webhook-timestamp is not a number of seconds: ${JSON.stringify(timestamp.slice(0, 20))}`);
  const ts = Number(timestamp);
  const now = Math.floor(nowMs / 1000);
  if (now - ts > toleranceSec) throw new HttpError('SNOOPY_HTTP_TIMESTAMP', `webhook-timestamp is ${now - ts} s old (tolerance ${toleranceSec} s)`);
  if (ts - now > toleranceSec) throw new HttpError('SNOOPY_HTTP_TIMESTAMP', `webhook-timestamp is ${ts - now} s in the future (tolerance ${toleranceSec} s)`);
  const given: Buffer[] = [];
  for (const part of signature.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    given.push(Buffer.from(part.slice(comma + 1), 'base64'));
  }
  let ok = false;
  for (const key of keys) {
    const expected = hmac(key, id, ts, body);
    for (const g of given) {
      // Compare every pair (no early exit on a match), so timing says nothing about which one matched.
      if (g.length === expected.length && timingSafeEqual(g, expected)) ok = true;
    }
  }
  if (!ok) throw new HttpError('SNOOPY_HTTP_SIGNATURE', given.length ? 'No webhook signature matches' : 'No v1 webhook signature in the header', { webhookId: id });
  return ts;
}
