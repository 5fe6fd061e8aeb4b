import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { Reflector } from '@nestjs/core';
import { AccessGuard } from './access.guard.js';
import { Authenticated, Public } from './decorators/access.decorator.js';
import type { PrincipalService } from './principal.service.js';
import type { BearerAuthenticator } from './bearer-authenticator.js';
import { loadConfig } from '../config/app-config.js';

class Routes {
  undeclared(): void {}
  @Public()
  open(): void {}
  @Authenticated()
  closed(): void {}
}

function context(handler: keyof Routes, headers: Record<string, string> = {}): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ headers, cookies: {}, method: 'GET' }) }),
  } as unknown as ExecutionContext;
}

const guard = new AccessGuard(new Reflector(), {} as PrincipalService, {} as BearerAuthenticator, loadConfig({}));

describe('AccessGuard', () => {
  it('denies a route that declares no access rule', async () => {
    await expect(guard.canActivate(context('undeclared'))).rejects.toMatchObject({ status: 403, code: ErrorCode.FORBIDDEN });
    await expect(guard.canActivate(context('undeclared'))).rejects.toBeInstanceOf(ApiException);
  });

  it('lets a public route through without credentials', async () => {
    await expect(guard.canActivate(context('open'))).resolves.toBe(true);
  });

  it('refuses an authenticated route without credentials, and a non-Bearer scheme', async () => {
    await expect(guard.canActivate(context('closed'))).rejects.toMatchObject({ status: 401 });
    await expect(guard.canActivate(context('closed', { authorization: 'Basic YWRtaW46eA==' }))).rejects.toMatchObject({ status: 401 });
  });
});
