import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, decodeProtectedHeader } from 'jose';
import { describe, expect, test } from 'vitest';
import { Grants, type HttpError } from '../src/index.js';

const secret = () => randomBytes(32).toString('base64url');

async function refusal(p: Promise<unknown>): Promise<{ code?: string; status?: number; message?: string }> {
  try {
    await p;
    return {};
  } catch (e) {
    const err = e as HttpError;
    return { code: err.code, status: err.status, message: err.message };
  }
}

describe('grants', () => {
  test('issue and verify: topic, scope, subject, filter with bound params, kid in the header', async () => {
    const grants = new Grants({ keys: [{ kid: 'k1', secret: secret() }] });
    const token = await grants.issue({ topic: 'orders', scope: 'read', subject: 'acme', where: 'customer = :c AND amount > 10', params: { c: 'acme' }, ttl: 60 });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: 'k1' });
    const g = await grants.verify(token, 'orders', 'read');
    expect(g).toMatchObject({ topic: 'orders', scope: 'read', subject: 'acme', where: 'customer = :c AND amount > 10', params: { c: 'acme' } });
    expect(g.filter({ customer: 'acme', amount: 11 })).toBe(true);
    expect(g.filter({ customer: 'other', amount: 11 })).toBe(false);
    expect(g.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a filter outside the subset is refused at issue, with the position', async () => {
    const grants = new Grants({ keys: [{ kid: 'k1', secret: secret() }] });
    const r = await refusal(grants.issue({ topic: 't', scope: 'read', subject: 's', where: "a = 1; DELETE", ttl: 60 }));
    expect(r.code).toBe('SNOOPY_HTTP_FILTER');
    expect(r.message).toContain('position 5');
    expect((await refusal(grants.issue({ topic: 't', scope: 'read', subject: 's', where: 'a = :x', ttl: 60 }))).code).toBe('SNOOPY_HTTP_FILTER');
  });

  test('refused: missing, garbage, forged, expired, revoked (401); other topic or scope (403)', async () => {
    const grants = new Grants({ keys: [{ kid: 'k1', secret: secret() }] });
    const other = new Grants({ keys: [{ kid: 'k1', secret: secret() }] });
    const good = await grants.issue({ topic: 'orders', scope: 'read', subject: 's', ttl: 60 });
    expect(await refusal(grants.verify(undefined, 'orders', 'read'))).toMatchObject({ code: 'SNOOPY_HTTP_GRANT', status: 401 });
    expect(await refusal(grants.verify('not.a.jwt', 'orders', 'read'))).toMatchObject({ status: 401 });
    const forged = await other.issue({ topic: 'orders', scope: 'read', subject: 's', ttl: 60 });
    expect(await refusal(grants.verify(forged, 'orders', 'read'))).toMatchObject({ status: 401 });
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, topic: 'payments' })).toString('base64url')}.${s}`;
    expect(await refusal(grants.verify(tampered, 'payments', 'read'))).toMatchObject({ status: 401 });
    expect(await refusal(grants.verify(good, 'payments', 'read'))).toMatchObject({ status: 403, message: 'Grant is for another topic' });
    expect(await refusal(grants.verify(good, 'orders', 'publish'))).toMatchObject({ status: 403 });
    const expired = new Grants({ keys: [{ kid: 'k1', secret: secret() }], clockToleranceSec: 0 });
    const short = await expired.issue({ topic: 'orders', scope: 'read', subject: 's', ttl: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await refusal(expired.verify(short, 'orders', 'read'))).toMatchObject({ status: 401, message: 'Grant expired' });
    const g = await grants.verify(good, 'orders', 'read');
    const seen: string[] = [];
    grants.onRevoke((jti) => seen.push(jti));
    grants.revoke(g.jti);
    expect(seen).toEqual([g.jti]);
    expect(await refusal(grants.verify(good, 'orders', 'read'))).toMatchObject({ status: 401, message: 'Grant revoked' });
  });

  test('algorithm pinned: alg none and HS256-signed-with-the-public-key (confusion) are refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const grants = new Grants({ algorithm: 'ES256', keys: [{ kid: 'e1', privateJwk: await exportJWK(privateKey), publicJwk }] });
    const good = await grants.issue({ topic: 't', scope: 'read', subject: 's', ttl: 60 });
    expect((await grants.verify(good, 't', 'read')).subject).toBe('s');
    const claims = { topic: 't', scope: 'read', sub: 's', jti: 'x', iss: 'snoopy', exp: Math.floor(Date.now() / 1000) + 60 };
    const none = new UnsecuredJWT(claims).encode();
    expect(await refusal(grants.verify(none, 't', 'read'))).toMatchObject({ status: 401 });
    const none2 = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'e1' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expect(await refusal(grants.verify(none2, 't', 'read'))).toMatchObject({ status: 401 });
    const confusion = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'e1' }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await refusal(grants.verify(confusion, 't', 'read'))).toMatchObject({ status: 401, message: 'Grant algorithm not allowed' });
  });

  test('key rotation: tokens of the old kid still verify, new ones carry the new kid', async () => {
    const oldKey = { kid: 'old', secret: secret() };
    const before = new Grants({ keys: [oldKey] });
    const oldToken = await before.issue({ topic: 't', scope: 'publish', subject: 's', ttl: '1h' });
    const after = new Grants({ keys: [{ kid: 'new', secret: secret() }, oldKey] });
    expect((await after.verify(oldToken, 't', 'publish')).scope).toBe('publish');
    expect(decodeProtectedHeader(await after.issue({ topic: 't', scope: 'read', subject: 's', ttl: 5 })).kid).toBe('new');
    const retired = new Grants({ keys: [{ kid: 'new', secret: secret() }] });
    expect(await refusal(retired.verify(oldToken, 't', 'publish'))).toMatchObject({ status: 401 });
  });

  test('bad options fail at construction', () => {
    expect(() => new Grants({ keys: [] })).toThrow(/Expected `keys` to be a non-empty array/);
    expect(() => new Grants({ keys: [{ kid: 'k', secret: 'short' }] })).toThrow(/at least 32 bytes/);
    expect(() => new Grants({ keys: [{ kid: 'k', secret: secret() }], algorithm: 'none' as never })).toThrow(/Expected `algorithm`/);
    expect(() => new Grants({ keys: [{ kid: 'k', secret: secret() }], algo: 'HS256' } as never)).toThrow(/Expected `algo` to be absent/);
  });
});
