import { errorCodes, SnoopyError } from '@snoopy/core';
import { describe, expect, test } from 'vitest';
import { HttpError, httpErrorCodes } from '../src/index.js';

describe('HttpError and the table of codes', () => {
  test('every SNOOPY_HTTP_* code of the table is an HttpError code, and the other way round', () => {
    const table = Object.keys(errorCodes).filter((c) => c.startsWith('SNOOPY_HTTP_')).sort();
    expect([...httpErrorCodes].sort()).toEqual(table);
  });

  test.each(httpErrorCodes)('%s: a SnoopyError with the retriable flag of the table', (code) => {
    const e = new HttpError(code, 'boom', { status: 500, attempts: 3, body: 'nope', url: 'http://x/' });
    expect(e).toBeInstanceOf(SnoopyError);
    expect(e.code).toBe(code);
    expect(e.retriable).toBe(errorCodes[code].retriable);
    expect(e.toJSON()).toMatchObject({ code, status: 500, attempts: 3, body: 'nope' });
  });
});
