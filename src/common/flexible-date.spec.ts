import { describe, expect, it } from '@jest/globals';
import { InvalidDate, parseFlexibleDate } from './flexible-date.js';

describe('parseFlexibleDate', () => {
  it.each([
    ['2027-05-28T17:24:25.1234567+02:00', '2027-05-28T15:24:25.123Z'],
    ['2027-05-28T17:24:25.1234567Z', '2027-05-28T17:24:25.123Z'],
    ['2027-05-28T17:24:25+0200', '2027-05-28T15:24:25.000Z'],
    ['2027-05-28T17:24:25', '2027-05-28T17:24:25.000Z'],
    ['2027-05-28', '2027-05-28T00:00:00.000Z'],
    ['2200-01-01T00:00:00Z', '2200-01-01T00:00:00.000Z'],
    ['/Date(1633646998000)/', '2021-10-07T22:49:58.000Z'],
    // "+01:00" in a query string not percent-encoded: the "+" arrives as a space.
    ['2027-05-28T17:24:25 01:00', '2027-05-28T16:24:25.000Z'],
  ])('reads %s', (text, iso) => {
    expect((parseFlexibleDate(text, false) as Date).toISOString()).toBe(iso);
  });

  it("reads Windows PowerShell 5.1's date object", () => {
    const date = parseFlexibleDate({ value: '/Date(1633646998000)/', DisplayHint: 2, DateTime: 'Thursday, October 7, 2021 10:49:58 PM' }, false);
    expect((date as Date).toISOString()).toBe('2021-10-07T22:49:58.000Z');
  });

  it('reads never only where allowed', () => {
    expect(parseFlexibleDate('Never', true)).toBe('never');
    expect(parseFlexibleDate('never', false)).toBeInstanceOf(InvalidDate);
  });

  it.each([['tomorrow'], ['2027-02-30'], ['2027-13-01'], ['12/31/2027'], [42], [null], [['2027-01-01']], [{ value: 5 }], [{ value: '/Date(1)/', Extra: 1 }]])(
    'refuses %j with a reason',
    (value) => {
      expect(parseFlexibleDate(value, true)).toBeInstanceOf(InvalidDate);
    },
  );
});

describe('parseFlexibleDate refuses impossible dates instead of rolling them over', () => {
  it.each([
    '2030-02-30T00:00:00+01:00',
    '2030-02-29T00:00:00Z',
    '2030-04-31T12:00:00-05:00',
    '2030-00-10',
    '2030-01-00',
    '2030-01-01T24:00:00Z',
    '2030-01-01T23:60:00+02:00',
    '2030-01-01T23:59:60Z',
    '2030-01-01T00:00:00+24:00',
    '0000-01-01T00:00:00Z',
    '/Date(999999999999999)/',
    '/Date(-999999999999999)/',
    '/Date(9999999999999999)/',
    { value: '/Date(253402300800000)/' },
  ])('refuses %j', (value) => {
    const result = parseFlexibleDate(value, true);
    expect(result).toBeInstanceOf(InvalidDate);
    expect((result as InvalidDate).reason).toMatch(/not a date|not a time|no month|outside the years|not a valid|offset/);
  });

  it.each([
    ['2032-02-29T00:00:00+01:00', '2032-02-28T23:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['/Date(253402300799999)/', '9999-12-31T23:59:59.999Z'],
  ])('accepts the real date %s', (text, iso) => {
    expect((parseFlexibleDate(text, false) as Date).toISOString()).toBe(iso);
  });
});
