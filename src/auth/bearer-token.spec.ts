import { describe, expect, it } from '@jest/globals';
import { bearerToken } from './bearer-token.js';

describe('bearerToken', () => {
  it('takes the token of a Bearer header, the scheme in any case, spaces around it', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken(['BEARER abc'])).toBe('abc');
  });
  it('gives nothing for no header, another scheme, no token, or two tokens', () => {
    for (const header of [undefined, '', 'Basic YWRtaW46eA==', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer\ta', 'xBearer a']) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });
});
