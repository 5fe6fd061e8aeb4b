import { describe, expect, it } from '@jest/globals';
import { judgeablePath } from '../gateway/request-target.js';
import { parsePattern, patternShape, RouteMatcher, type EndpointRule } from './route-matcher.js';

function requestSegments(uri: string): string[] {
  const judged = judgeablePath(uri);
  if ('problem' in judged) throw new Error(`${uri}: ${judged.problem}`);
  return judged.segments;
}

let nextId = 1;
const rule = (url: string, methods: string[] = [], roles: string[] = ['R'], authentication = true): EndpointRule => ({ id: nextId++, url, methods, authentication, roles });

function matcher(...rules: EndpointRule[]) {
  const m = new RouteMatcher(rules);
  return (method: string, uri: string) => m.match(method, requestSegments(uri))?.url;
}

describe('RouteMatcher', () => {
  it('prefers literal segments to parameters, and parameters to wildcards', () => {
    const match = matcher(rule('/users/*'), rule('/users/:id'), rule('/users/me'), rule('/users/:id/keys'));
    expect(match('GET', '/users/me')).toBe('/users/me');
    expect(match('GET', '/users/42')).toBe('/users/:id');
    expect(match('GET', '/users/42/keys')).toBe('/users/:id/keys');
    expect(match('GET', '/users/42/other')).toBe('/users/*');
    expect(match('GET', '/users/me/keys')).toBe('/users/:id/keys');
  });

  it('weighs earlier segments first', () => {
    const match = matcher(rule('/a/:x/c'), rule('/:y/b/c'));
    expect(match('GET', '/a/b/c')).toBe('/a/:x/c');
  });

  it('matches a wildcard against the rest of the path, its bare prefix and a trailing slash included', () => {
    const match = matcher(rule('/payroll/*'));
    expect(match('GET', '/payroll/run')).toBe('/payroll/*');
    expect(match('GET', '/payroll/2026/11/slips')).toBe('/payroll/*');
    expect(match('GET', '/payroll')).toBe('/payroll/*');
    expect(match('GET', '/payroll/')).toBe('/payroll/*');
    expect(match('GET', '/payrolls/x')).toBeUndefined();
  });

  it('judges a trailing-slash path by the most specific rule covering it, never by a broader catch-all', () => {
    const m = new RouteMatcher([rule('/payroll/*', ['GET'], ['Payroll']), rule('/*', [], []), rule('/users/:id', ['GET'], ['Admin'])]);
    const match = (method: string, uri: string) => m.match(method, requestSegments(uri))?.url;
    expect(match('GET', '/payroll/')).toBe('/payroll/*');
    expect(match('GET', '/payroll')).toBe('/payroll/*');
    expect(match('GET', '/users/7/')).toBe('/users/:id');
    expect(match('GET', '/other/')).toBe('/*');
    // An exact rule for the prefix still beats the wildcard below it.
    const exact = new RouteMatcher([rule('/payroll/*', ['GET'], ['Payroll']), rule('/payroll', ['GET'], ['Reader'])]);
    expect(exact.match('GET', requestSegments('/payroll/'))?.url).toBe('/payroll');
  });

  it('matches methods: a rule for the method beats one for any method on the same pattern', () => {
    const match = matcher(rule('/payroll/:id', ['GET']), rule('/payroll/:id', []), rule('/reports', ['GET', 'POST']));
    expect(match('GET', '/payroll/5')).toBe('/payroll/:id');
    expect(match('post', '/reports')).toBe('/reports');
    expect(match('HEAD', '/reports')).toBe('/reports');
    expect(match('DELETE', '/reports')).toBeUndefined();
  });

  it('lets the most specific pattern decide: a method it leaves out is refused, not passed to a broader rule', () => {
    const m = new RouteMatcher([rule('/payroll/*', ['GET', 'POST']), rule('/*', [], [])]);
    const match = (method: string, uri: string) => m.match(method, requestSegments(uri))?.url;
    expect(match('GET', '/payroll/x')).toBe('/payroll/*');
    expect(match('PUT', '/payroll/x')).toBeUndefined();
    expect(match('DELETE', '/payroll/x/y')).toBeUndefined();
    expect(match('PUT', '/elsewhere')).toBe('/*');
  });

  it('compares literal segments case-insensitively, as PSU (ASP.NET) routes', () => {
    const match = matcher(rule('/Payroll/*'));
    expect(match('GET', '/PAYROLL/salary')).toBe('/Payroll/*');
    expect(match('GET', '/payroll/salary')).toBe('/Payroll/*');
  });

  it('matches nothing when no rule covers the path', () => {
    const match = matcher(rule('/a'));
    expect(match('GET', '/b')).toBeUndefined();
    expect(match('GET', '/')).toBeUndefined();
    expect(matcher(rule('/'))('GET', '/')).toBe('/');
    expect(matcher(rule('/*'))('GET', '/anything/at/all')).toBe('/*');
  });

  it('reads percent-encoded letters as the upstream decodes them', () => {
    const match = matcher(rule('/payroll/*'), rule('/public/*', [], [], false));
    expect(match('GET', '/pay%72oll/x')).toBe('/payroll/*');
    expect(match('GET', '/payroll/x?y=1')).toBe('/payroll/*');
    expect(match('GET', 'http://host:8080/payroll/x')).toBe('/payroll/*');
  });

  it('finds the right rule among 10,000 (its speed is measured by npm run bench)', () => {
    const rules = Array.from({ length: 10_000 }, (_, i) => rule(`/service-${i}/:id/*`, ['GET']));
    const m = new RouteMatcher(rules);
    expect(m.match('GET', requestSegments('/service-9999/7/x/y'))?.url).toBe('/service-9999/:id/*');
    expect(m.match('GET', requestSegments('/service-10000/7/x'))).toBeUndefined();
  });
});

describe('parsePattern', () => {
  it.each(['/payroll/*', '/users/:id', '/', '/a/b/c', '/a%20b'])('accepts %s', (url) => {
    expect(typeof parsePattern(url)).not.toBe('string');
  });
  it.each(['payroll', '/a/*/b', '/a*', '/a//b', '/a/../b', '/:1x', '/a?b=1', '/a b', '/%zz', '/a%2Fb', '/a;b', '/a./b', '/a%25b', '/a%3Fb'])('refuses %s', (url) => {
    expect(typeof parsePattern(url)).toBe('string');
  });
  it('gives patterns differing only in parameter names the same shape', () => {
    expect(patternShape(parsePattern('/users/:id') as never)).toBe(patternShape(parsePattern('/users/:userId/') as never));
  });
});
