import { describe, expect, test } from 'vitest';
import { Gateway, resolveGatewayOptions, type GatewayOptions } from '../src/index.js';

const base: GatewayOptions = {
  kafka: { 'bootstrap.servers': '127.0.0.1:9' },
  topics: { orders: {} },
  keys: [{ kid: 'k', secret: Buffer.alloc(32, 1).toString('base64url') }],
  dataDir: '/tmp/never-opened',
};

describe('gateway options', () => {
  test('defaults', () => {
    const o = resolveGatewayOptions(base);
    expect(o).toMatchObject({ port: 8080, host: '127.0.0.1', algorithm: 'HS256', allowPrivateWebhooks: false, createTopics: true });
    expect(o.topics.orders).toEqual({ partitions: 1, publish: true, read: true });
    expect(Object.isFrozen(o)).toBe(true);
  });

  test.each([
    [{ prot: 1 }, /Expected `prot` to be absent \(known options: kafka, topics/],
    [{ topics: {} }, /Expected `topics` to be at least one topic/],
    [{ topics: { orders: { partitions: 0 } } }, 'Expected `topics.orders.partitions` to be an integer >= 1, got `0` (number)'],
    [{ topics: { orders: { reads: true } } }, /Expected `reads` to be absent/],
    [{ kafka: {} }, /Expected `kafka.bootstrap.servers` to be a string/],
    [{ adminToken: 'short' }, /Expected `adminToken` to be a string of at least 16 characters/],
    [{ port: 70000 }, /Expected `port` to be an integer from 0 to 65535/],
    [{ dataDir: '' }, /Expected `dataDir` to be a directory path/],
    [{ webhookRetry: { attempts: 0 } }, /Expected `retry.attempts` to be an integer >= 1/],
    [{ keys: [] }, /Expected `keys` to be a non-empty array/],
  ] as const)('refuses %j', (patch, message) => {
    expect(() => resolveGatewayOptions({ ...base, ...patch } as GatewayOptions)).toThrow(message as string | RegExp);
  });

  test('a Gateway with bad keys fails at construction, before anything connects', () => {
    expect(() => new Gateway({ ...base, keys: [{ kid: 'k', secret: 'short' }] })).toThrow(/at least 32 bytes/);
  });
});
