import { describe, expect, it } from 'vitest';
import { SnoopyError, errorCodes } from '@snoopy/core';
import { ParamError, ReadError, RecordTooLargeError, SendError, SourceModuleError, UnsentError } from '../src/index.js';

describe('connect errors', () => {
  const cases: [SnoopyError, string][] = [
    [new RecordTooLargeError('w', 300, 200), 'SNOOPY_CONNECT_RECORD_TOO_LARGE'],
    [new SendError('w', 5, 3, new Error('503')), 'SNOOPY_CONNECT_SEND'],
    [new UnsentError('w', 100), 'SNOOPY_CONNECT_UNSENT'],
    [new ParamError('Api', 'token', 'is required'), 'SNOOPY_CONNECT_PARAM'],
    [new ReadError('Api', 2, new Error('reset'), 'reset'), 'SNOOPY_CONNECT_READ'],
    [new SourceModuleError('./x.js', 'cannot be loaded'), 'SNOOPY_CONNECT_MODULE'],
  ];

  it.each(cases)('%s has its code from the table and its retriable flag', (error, code) => {
    expect(error).toBeInstanceOf(SnoopyError);
    expect(error.code).toBe(code);
    expect(code in errorCodes).toBe(true);
    expect(error.retriable).toBe(errorCodes[code as keyof typeof errorCodes].retriable);
    expect(error.name).toBe(error.constructor.name);
  });

  it('every SNOOPY_CONNECT_ code in the table has a class here', () => {
    const table = Object.keys(errorCodes).filter((c) => c.startsWith('SNOOPY_CONNECT_')).sort();
    expect(cases.map(([, code]) => code).sort()).toEqual(table);
  });

  it('says what happened and keeps the cause', () => {
    expect(new RecordTooLargeError('orders', 300, 200).message).toBe('Writer orders: a record of 300 bytes exceeds maxBytes (200)');
    const cause = new Error('503 from the server');
    const send = new SendError('orders', 5, 3, cause);
    expect(send.message).toBe('Writer orders: a batch of 5 records was not sent after 3 attempt(s): 503 from the server');
    expect(send.cause).toBe(cause);
    expect(new ParamError('Api', 'token', 'is required')).toMatchObject({ param: 'token', message: 'Api: parameter `token` is required' });
  });
});
