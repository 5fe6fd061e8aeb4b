import { describe, expect, it } from '@jest/globals';
import { originalRequest } from './original-request.js';

const nginx = (method: string, uri: string, extra: Record<string, string> = {}) =>
  originalRequest({ 'x-original-method': method, 'x-original-uri': uri, ...extra })!;

describe('originalRequest: the request a gateway asks about, and every method an upstream may run it as', () => {
  it('reads one header family, and no request when neither is there', () => {
    expect(nginx('get', '/a')).toEqual({ method: 'GET', uri: '/a', methods: ['GET'] });
    expect(originalRequest({ 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/b' })).toEqual({ method: 'POST', uri: '/b', methods: ['POST'] });
    expect(originalRequest({})).toBeUndefined();
    expect(() => originalRequest({ 'x-original-uri': '/a', 'x-forwarded-uri': '/a', 'x-original-method': 'GET' })).toThrow(/not both/);
    expect(() => originalRequest({ 'x-original-uri': '/a' })).toThrow(/must come together/);
  });

  it('adds the methods named by override headers, repeated or comma-joined', () => {
    expect(nginx('GET', '/a', { 'x-http-method-override': 'delete' }).methods).toEqual(['GET', 'DELETE']);
    expect(nginx('GET', '/a', { 'x-http-method': 'PUT, PATCH', 'x-method-override': 'GET' }).methods).toEqual(['GET', 'PUT', 'PATCH']);
    expect(() => nginx('GET', '/a', { 'x-http-method-override': 'DELETE;x' })).toThrow(/names no HTTP method/);
  });

  it.each(['_method=DELETE', '.method=DELETE', '[method=DELETE', '%5Fmethod=DELETE', '_method[]=DELETE', '_method%5B%5D=DELETE', 'a=1;_method=DELETE', '+method=DELETE', 'x=1&__method=delete'])(
    "reads a POST's %s as a DELETE too (PHP, Laravel, Symfony)",
    (query) => {
      expect(nginx('POST', `/a?${query}`).methods).toEqual(['POST', 'DELETE']);
    },
  );

  it('leaves a plain method parameter, and other methods\' query strings, alone', () => {
    expect(nginx('POST', '/pay?method=card').methods).toEqual(['POST']);
    expect(nginx('GET', '/a?_method=DELETE').methods).toEqual(['GET']);
    expect(nginx('POST', '/a?q=100%&x=%zz').methods).toEqual(['POST']);
  });

  it('refuses a request carrying a header by which some servers take the path from the client', () => {
    expect(() => nginx('GET', '/public/x', { 'x-original-url': '/payroll/x' })).toThrow(/x-original-url/);
    expect(() => nginx('GET', '/public/x', { 'x-rewrite-url': '/payroll/x' })).toThrow(/x-rewrite-url/);
  });
});
