import { Webhook } from 'standardwebhooks';
import { describe, expect, test } from 'vitest';
import { generateSecret, secretKey, sign, verify, type HttpError } from '../src/index.js';

const secret = generateSecret();
const other = generateSecret();
const key = secretKey(secret);
const now = () => Math.floor(Date.now() / 1000);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as HttpError).code;
  }
  return 'accepted';
}

describe('Standard Webhooks signatures', () => {
  test('the reference library verifies what we sign, with one and with two secrets', () => {
    const body = JSON.stringify({ hello: 'world', n: 1 });
    const ts = now();
    for (const keys of [[key], [secretKey(other), key]]) {
      const signature = sign(keys, 'msg_1', ts, body);
      const parsed = new Webhook(secret).verify(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signature });
      expect(parsed).toEqual({ hello: 'world', n: 1 });
    }
  });

  test('we verify what the reference library signs', () => {
    const body = '{"a":1}';
    const ts = new Date();
    const signature = new Webhook(secret).sign('msg_2', ts, body);
    const seconds = Math.floor(ts.getTime() / 1000);
    expect(verify([key], { id: 'msg_2', timestamp: String(seconds), signature, body: Buffer.from(body) }, 300)).toBe(seconds);
  });

  test('forged, altered, replayed, future, NaN and missing are refused with their codes', () => {
    const body = Buffer.from('{"a":1}');
    const ts = now();
    const good = sign([key], 'id', ts, body);
    const input = { id: 'id', timestamp: String(ts), signature: good, body };
    expect(refusal(() => verify([key], input, 300))).toBe('accepted');
    expect(refusal(() => verify([key], { ...input, signature: sign([secretKey(other)], 'id', ts, body) }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
    expect(refusal(() => verify([key], { ...input, body: Buffer.from('{"a":2}') }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
    expect(refusal(() => verify([key], { ...input, id: 'other' }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
    expect(refusal(() => verify([key], { ...input, signature: 'v2,' + good.slice(3) }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
    expect(refusal(() => verify([key], { ...input, signature: undefined }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
    const old = ts - 301;
    expect(refusal(() => verify([key], { ...input, timestamp: String(old), signature: sign([key], 'id', old, body) }, 300))).toBe('SNOOPY_HTTP_TIMESTAMP');
    const future = ts + 400;
    expect(refusal(() => verify([key], { ...input, timestamp: String(future), signature: sign([key], 'id', future, body) }, 300))).toBe('SNOOPY_HTTP_TIMESTAMP');
    for (const bad of ['NaN', '1e9', '-5', '', ' 12', '0x10', String(ts) + '.5']) {
      expect(refusal(() => verify([key], { ...input, timestamp: bad }, 300)), bad).not.toBe('accepted');
    }
    expect(refusal(() => verify([key], { ...input, timestamp: 'NaN' }, 300))).toBe('SNOOPY_HTTP_TIMESTAMP');
  });

  test('rotation: either of two secrets is accepted, a third is not', () => {
    const body = Buffer.from('x');
    const ts = now();
    const keys = [secretKey(other), key];
    expect(refusal(() => verify(keys, { id: 'i', timestamp: String(ts), signature: sign([key], 'i', ts, body), body }, 300))).toBe('accepted');
    expect(refusal(() => verify(keys, { id: 'i', timestamp: String(ts), signature: sign([secretKey(other)], 'i', ts, body), body }, 300))).toBe('accepted');
    expect(refusal(() => verify(keys, { id: 'i', timestamp: String(ts), signature: sign([secretKey(generateSecret())], 'i', ts, body), body }, 300))).toBe('SNOOPY_HTTP_SIGNATURE');
  });

  test('secrets must be whsec_<base64> of at least 16 bytes', () => {
    expect(() => secretKey('whsec_abc')).toThrow(/Expected a secret like/);
    expect(() => secretKey('')).toThrow(/Expected a secret like/);
    expect(secretKey(secret).length).toBe(24);
  });
});
