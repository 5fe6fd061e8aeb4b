import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { collectList, httpMethod, isoDate, nonNegativeInteger, positiveInteger, requestPath } from './parse.js';

describe('option parsers', () => {
  it('take whole numbers only', () => {
    expect(positiveInteger('14')).toBe(14);
    expect(nonNegativeInteger('0')).toBe(0);
    for (const bad of ['0', '-1', '1.5', '1e3', ' 3', '', '99999999999999999999']) expect(() => positiveInteger(bad)).toThrow(InvalidArgumentError);
  });

  it('take ISO 8601 dates and date-times, not other date text', () => {
    for (const good of ['2027-06-30', '2027-06-30T12:00:00Z', '2027-06-30T12:00:00.1234567+01:00']) expect(isoDate(good)).toBe(good);
    for (const bad of ['tomorrow', '30/06/2027', '2027-13-45', 'never']) expect(() => isoDate(bad)).toThrow(InvalidArgumentError);
  });

  it('collect repeated and comma-separated names', () => {
    expect(collectList('B, C', collectList('A', undefined))).toEqual(['A', 'B', 'C']);
    expect(() => collectList(' , ', undefined)).toThrow(InvalidArgumentError);
  });

  it('upper-case methods, allow *, and want paths from /', () => {
    expect(httpMethod('get')).toBe('GET');
    expect(httpMethod('*')).toBe('*');
    expect(() => httpMethod('GET /')).toThrow(InvalidArgumentError);
    expect(requestPath('/payroll/2026?x=1')).toBe('/payroll/2026?x=1');
    expect(() => requestPath('payroll')).toThrow(InvalidArgumentError);
  });
});
