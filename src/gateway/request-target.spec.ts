import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { judgeablePath } from './request-target.js';

const refused = (uri: string) => 'problem' in judgeablePath(uri);

describe('judgeablePath: the path exactly as the upstream receives it, or a refusal', () => {
  it('accepts canonical paths, with a query, a trailing slash, or percent-encoded ordinary characters', () => {
    expect(judgeablePath('/')).toEqual({ segments: [] });
    expect(judgeablePath('/Payroll/2026/11?format=json&x=../..')).toEqual({ segments: ['payroll', '2026', '11'] });
    expect(judgeablePath('/payroll/')).toEqual({ segments: ['payroll'] });
    expect(judgeablePath('/pay%72oll/Jos%C3%A9')).toEqual({ segments: ['payroll', 'josé'] });
    // Decomposed or composed, an accent is no compatibility character.
    expect(judgeablePath('/Jose%CC%81/%E6%97%A5%E6%9C%AC')).toEqual({ segments: ['jose\u0301', '日本'] });
    expect(judgeablePath("/a-b_c.d~e/!$&'()*+,=:@")).toEqual({ segments: ['a-b_c.d~e', "!$&'()*+,=:@"] });
    expect(judgeablePath('https://gw.example:8443/payroll/x')).toEqual({ segments: ['payroll', 'x'] });
    expect(judgeablePath('/...x/v1.2/y')).toEqual({ segments: ['...x', 'v1.2', 'y'] });
  });

  // The four bypasses of issue 7 and their relatives: each is refused, not resolved.
  it.each([
    '/payroll/2026/11/../../../health',
    '/payroll/2026/%2e%2e/%2e%2e/health',
    '/payroll/2026/%2E%2E/health',
    '/payroll/.%2e/health',
    '/payroll/%2e./health',
    '/payroll//../public/x',
    '/payroll//x',
    '//payroll/x',
    '/payroll/./x',
    '/payroll/%2e/x',
    '/payroll/..',
    '/payroll/.',
    '/payroll/x//',
  ])('refuses the dot or empty segment in %s', (uri) => {
    expect(refused(uri)).toBe(true);
  });

  it.each([
    '/payroll%2Fsalary',
    '/public/..%2Fpayroll',
    '/public/..\\payroll',
    '/a%5Cb',
    '/payroll;a=b/salary',
    '/payroll%3Bx',
    '/payroll./salary',
    '/payroll%2e/salary',
    '/payroll%00/x',
    '/pay%2572oll/x',
    '/a%3Fb',
    '/a%23b',
    '/a#/../payroll',
    '/a b',
    '/a\tb',
    '/caf\u00e9',
    '/a"b',
    '/a<b>',
    '/a|b',
    '/bad%zz',
    '/bad%c0%ae%c0%ae/x',
    '/payroll%20/x',
    '/payroll%C2%A0/x',
    '/public/%EF%BC%8E%EF%BC%8E/payroll',
    '/public%EF%BC%8F..%EF%BC%8Fpayroll',
    '/a%EF%BC%BCb',
    '/%EF%BD%81dmin/x',
    '/of%EF%AC%81ce',
    'relative/path',
    '',
    '*',
  ])('refuses %j, which upstreams read differently', (uri) => {
    expect(refused(uri)).toBe(true);
  });

  it('never resolves anything: every accepted path is its own segments joined back, and never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'a', 'f', 'F', '5', 'c', ';', '\\', '?', '#') }), (tail) => {
        const uri = '/' + tail;
        const judged = judgeablePath(uri);
        if ('problem' in judged) return;
        const path = uri.split('?')[0];
        const rebuilt = '/' + judged.segments.join('/');
        // The only difference allowed: percent-decoding of ordinary characters, case, and one trailing slash.
        expect(decodeURIComponent(path).toLowerCase().replace(/(.)\/$/, '$1')).toBe(rebuilt);
        expect(judged.segments).not.toContain('..');
        expect(judged.segments).not.toContain('.');
        expect(judged.segments).not.toContain('');
      }),
      { numRuns: 2000 },
    );
  });
});
