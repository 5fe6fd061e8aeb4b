import { describe, expect, it } from '@jest/globals';
import { generateSecret, secretKey, signature, signatureHeader } from './webhook-signature.js';

describe('webhook signatures', () => {
  it("matches the Standard Webhooks reference libraries' test vector", () => {
    // From standard-webhooks/libraries (javascript/src/index.test.ts).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    expect(signature(secret, id, 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with every secret given, space-separated', () => {
    const a = generateSecret();
    const b = generateSecret();
    const header = signatureHeader([a, b], 'msg_1', 1, '{}');
    expect(header.split(' ')).toEqual([signature(a, 'msg_1', 1, '{}'), signature(b, 'msg_1', 1, '{}')]);
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(secret)).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it.each([
    ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'must start with whsec_'],
    ['whsec_', 'encodes 0'],
    ['whsec_c2hvcnQ=', 'encodes 5'],
    [`whsec_${Buffer.alloc(65).toString('base64')}`, 'encodes 65'],
    ['whsec_not base64 at all!!!!!!!!!!!!!!!!!!', 'base64'],
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', 'encodes 23'],
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA', 'base64'],
  ])('refuses the secret %s', (secret, problem) => {
    expect(() => secretKey(secret)).toThrow(problem);
  });
});
