import { describe, expect, it } from '@jest/globals';
import { headerValue } from './identity-headers.js';

describe('headerValue', () => {
  it('keeps printable ASCII and percent-encodes the rest', () => {
    expect(headerValue('adam@ironmansoftware.onmicrosoft.com')).toBe('adam@ironmansoftware.onmicrosoft.com');
    expect(headerValue('José Müller')).toBe('Jos%C3%A9 M%C3%BCller');
    expect(headerValue('100%')).toBe('100%25');
    expect(headerValue('a\r\nX-Evil: 1')).toBe('a%0D%0AX-Evil: 1');
  });
});
