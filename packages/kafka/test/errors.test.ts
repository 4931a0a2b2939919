import { errorCodes, SnoopyError } from '@snoopy/core';
import { describe, expect, test } from 'vitest';
import { KafkaError, kafkaErrorCodes } from '../src/index.js';

describe('KafkaError and the table of codes', () => {
  test('every SNOOPY_KAFKA_* code of the table is a KafkaError code, and the other way round', () => {
    const table = Object.keys(errorCodes).filter((c) => c.startsWith('SNOOPY_KAFKA_')).sort();
    expect([...kafkaErrorCodes].sort()).toEqual(table);
  });

  test.each(kafkaErrorCodes)('%s: a SnoopyError with the retriable flag of the table', (code) => {
    const e = new KafkaError(code, 'boom', { kafkaCode: -195 });
    expect(e).toBeInstanceOf(SnoopyError);
    expect(e.name).toBe('KafkaError');
    expect(e.code).toBe(code);
    expect(e.retriable).toBe(errorCodes[code].retriable);
    expect(e.kafkaCode).toBe(-195);
  });

  test('carries where a message came from', () => {
    const e = new KafkaError('SNOOPY_KAFKA_PRODUCE', 'could not deliver', { location: { topic: 't', partition: 2 } });
    expect(e.message).toBe('could not deliver (topic t, partition 2)');
  });
});
