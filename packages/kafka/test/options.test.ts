import { describe, expect, test } from 'vitest';
import { OptionsError } from '@snoopy/core';
import { Conf, Topic, isTopic, resolveTopicOptions, topicDefaults } from '../src/index.js';

describe('resolveTopicOptions', () => {
  test('defaults are applied and frozen', () => {
    const o = resolveTopicOptions(undefined);
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.connectTimeoutMs).toBe(topicDefaults.connectTimeoutMs);
    expect(o.codec.name).toBe('json');
    expect(o.keyCodec.name).toBe('string');
    expect(o.offset).toBeUndefined();
  });

  test.each([
    [{ offset: 'first' }, "Expected `offset` to be 'earliest', 'latest' or an integer >= 0, got `\"first\"` (string)"],
    [{ offset: -1 }, 'got `-1` (number)'],
    [{ connectTimeoutMs: 0 }, 'Expected `connectTimeoutMs` to be an integer >= 1, got `0` (number)'],
    [{ deadLetter: '' }, 'Expected `deadLetter` to be a topic name'],
    [{ codec: { encode: 1 } }, 'Expected `codec` to be a codec'],
    [{ exactlyOnce: { source: 'in' } }, 'Expected `exactlyOnce.source` to be the source Topic'],
    [{ bogus: 1 }, 'Expected `bogus` to be absent'],
  ])('%o fails at construction', (options, message) => {
    expect(() => resolveTopicOptions(options as never)).toThrow(OptionsError);
    expect(() => resolveTopicOptions(options as never)).toThrow(message);
    expect(() => Topic('t', {}, options as never)).toThrow(message);
  });

  test('bad names and configs fail at construction', () => {
    expect(() => Topic('')).toThrow('Expected `name` to be a non-empty string, got `""` (string)');
    expect(() => Topic('t', { 'linger.ms': [] as never })).toThrow('Expected config `linger.ms` to be a string, number, boolean or function');
    expect(() => Conf({ x: {} as never })).toThrow(OptionsError);
  });
});

describe('Topic object', () => {
  test('is a callable function object, with or without new', () => {
    const a = Topic<number>('orders');
    const b = new Topic<number>('payments');
    expect(typeof a).toBe('function');
    expect(a.name).toBe('orders');
    expect(b.name).toBe('payments');
    expect(a instanceof Topic).toBe(true);
    expect(b instanceof Topic).toBe(true);
    expect(isTopic(a)).toBe(true);
    expect(isTopic(() => {})).toBe(false);
    expect(a.stats.produced).toBe(0);
    expect(Object.isFrozen(a.stats)).toBe(true);
  });

  test('close() is idempotent and use after close fails with SNOOPY_CLOSED', async () => {
    const t = Topic('closed-topic');
    const p1 = t.close();
    const p2 = t.close();
    await Promise.all([p1, p2]);
    await t[Symbol.asyncDispose]();
    await expect(t(1)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    await expect(t.send(1)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    expect(() => t[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });
});

describe('librdkafka config', () => {
  test('a misspelt property fails at Topic() with SNOOPY_KAFKA_CONFIG naming it and the closest known one', () => {
    const make = () => Topic('t', { 'bootstrap.server': '127.0.0.1:9092' });
    expect(make).toThrow(expect.objectContaining({ code: 'SNOOPY_KAFKA_CONFIG', property: 'bootstrap.server', retriable: false }));
    expect(make).toThrow('Topic t: `bootstrap.server` is not a librdkafka configuration property (did you mean `bootstrap.servers`?)');
    expect(() => Topic('t', { 'max.poll.intervall.ms': 1 })).toThrow('(did you mean `max.poll.interval.ms`?)');
    expect(() => Conf({ 'Group.Id': 'x' })).toThrow(expect.objectContaining({ code: 'SNOOPY_KAFKA_CONFIG', message: expect.stringContaining('did you mean `group.id`') }));
  });

  test('a name far from every property has no suggestion', () => {
    expect(() => Topic('t', { frobnicate: true })).toThrow(expect.objectContaining({ code: 'SNOOPY_KAFKA_CONFIG' }));
    expect(() => Topic('t', { frobnicate: true })).toThrow(/`frobnicate` is not a librdkafka configuration property; see/);
  });

  test('known properties, topic-level ones and the binding callbacks pass', () => {
    expect(() =>
      Topic('t', {
        'bootstrap.servers': 'x:1', 'group.id': 'g', 'acks': 'all', 'auto.offset.reset': 'earliest', 'linger.ms': 5,
        'partition.assignment.strategy': 'cooperative-sticky', 'max.poll.interval.ms': 10_000, rebalance_cb: () => {}, offset_commit_cb: () => {},
      }),
    ).not.toThrow();
  });
});

describe('Topic as a source', () => {
  test('claims no item count (its function arity is not one)', () => {
    const t = Topic('counted');
    expect((t as unknown as { length: unknown }).length).toBeUndefined();
    expect((t as unknown as { size: unknown }).size).toBeUndefined();
  });
});
