import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { MAX_FILTER_DAYS } from '../app-token/dto/app-token.dto.js';
import { collectList, filterDays, graceSeconds, httpMethod, isoDate, LIMITS, lifespanDays, nonNegativeInteger, positiveInteger, requestPath } from './parse.js';

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

  it('take only dates on the calendar, in the future', () => {
    for (const bad of ['2027-02-30', '2027-02-29', '2027-04-31', '2027-06-30T24:00', '2027-06-30T12:60', '2027-06-30T12:00:00+25:00']) {
      expect(() => isoDate(bad)).toThrow(InvalidArgumentError);
    }
    // Date.parse takes it (as March 2): the case the server would also have refused.
    expect(Number.isNaN(Date.parse('2027-02-30'))).toBe(false);
    expect(() => isoDate('2027-02-30')).toThrow(/not a date on the calendar/);
    expect(isoDate('2028-02-29')).toBe('2028-02-29');
    expect(() => isoDate('2020-01-01')).toThrow(/not in the future/);
    expect(() => isoDate('2027-06-30T12:00:00Z', Date.parse('2027-06-30T12:00:00Z'))).toThrow(/not in the future/);
  });

  it('keep the server\'s limits: lifespan 1..36500 days, grace 0..604800 s, filters 1..36500 days', () => {
    expect(LIMITS.filterDays).toBe(MAX_FILTER_DAYS);
    expect(lifespanDays('36500')).toBe(36500);
    expect(graceSeconds('0')).toBe(0);
    expect(graceSeconds('604800')).toBe(604800);
    expect(filterDays('1')).toBe(1);
    for (const [parse, bad] of [[lifespanDays, '36501'], [lifespanDays, '0'], [graceSeconds, '604801'], [filterDays, '0'], [filterDays, '36501']] as const) {
      expect(() => parse(bad)).toThrow(InvalidArgumentError);
    }
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
