import { describe, expect, it } from '@jest/globals';
import { BadRequestException, ForbiddenException, InternalServerErrorException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { authOutcome } from './auth-outcome.js';

describe('authOutcome', () => {
  it('reads a refused token\'s state from its 401, and calls any other 401 invalid', () => {
    expect(authOutcome(new ApiException(401, ErrorCode.TOKEN_EXPIRED, 'Invalid app token: expired'))).toBe('expired');
    expect(authOutcome(new ApiException(401, ErrorCode.TOKEN_REVOKED, 'Invalid app token: revoked'))).toBe('revoked');
    expect(authOutcome(new ApiException(401, ErrorCode.TOKEN_INVALID, 'Invalid app token'))).toBe('invalid');
    expect(authOutcome(new UnauthorizedException('Session expired or signed out; sign in again'))).toBe('invalid');
  });

  it('calls a 403, or a request no rule can judge (400), forbidden', () => {
    expect(authOutcome(new ForbiddenException('Requires role Administrator'))).toBe('forbidden');
    expect(authOutcome(new BadRequestException('Refused: encoded "/"'))).toBe('forbidden');
  });

  it('calls a database failure, a 503 or a 500 unavailable: no decision could be made', () => {
    expect(authOutcome(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe('unavailable');
    expect(authOutcome(new ServiceUnavailableException())).toBe('unavailable');
    expect(authOutcome(new InternalServerErrorException())).toBe('unavailable');
    expect(authOutcome('thrown string')).toBe('unavailable');
  });
});
