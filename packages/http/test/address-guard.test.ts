import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { describe, expect, test } from 'vitest';
import { checkUrl, guardedLookup, isPrivateAddress, webhook, type HttpError } from '../src/index.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as HttpError).code;
  }
  return 'allowed';
}

describe('SSRF guard', () => {
  test.each([
    'http://127.0.0.1/hook',
    'http://10.1.2.3/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost:8080/x',
    'http://192.168.1.1/',
    'http://172.20.0.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00:ec2::254]/',
    'http://0.0.0.0/',
    'ftp://example.com/',
    'file:///etc/passwd',
    'http://user:pw@example.com/',
  ])('refuses %s unless allowed', (url) => {
    expect(code(() => webhook(url))).toBe('SNOOPY_HTTP_ADDRESS_REFUSED');
    if (url.startsWith('http://') && !url.includes('@')) expect(code(() => webhook(url, { allowPrivate: true }))).toBe('allowed');
  });

  test('public addresses and names pass the construction check', () => {
    expect(code(() => checkUrl('https://example.com/hook', false))).toBe('allowed');
    expect(code(() => checkUrl('http://93.184.216.34/', false))).toBe('allowed');
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
    expect(isPrivateAddress('::ffff:7f00:1')).toBe(true);
  });

  test('the guarded lookup refuses a name that resolves to loopback (checked on the addresses connected to)', async () => {
    const error = await new Promise<unknown>((resolve) => guardedLookup('localhost', { all: true }, (err) => resolve(err)));
    expect((error as HttpError).code).toBe('SNOOPY_HTTP_ADDRESS_REFUSED');
  });

  test('a delivery to a name that resolves to a private address fails at once, without retries', async () => {
    // The machine's own name passes the construction check (it is not "localhost") and resolves
    // to a loopback or private address on CI machines and containers.
    const host = hostname();
    const { address } = await lookup(host);
    expect(isPrivateAddress(address), `${host} resolves to ${address}`).toBe(true);
    await using sink = webhook(`http://${host}:9/hook`, { retry: { attempts: 5, baseMs: 1 } });
    const error = (await sink.send({ a: 1 }).catch((e: unknown) => e)) as HttpError;
    expect(error.code).toBe('SNOOPY_HTTP_ADDRESS_REFUSED');
    expect(sink.stats.attempts).toBe(1);
  });
});
