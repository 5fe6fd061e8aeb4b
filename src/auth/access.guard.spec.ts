import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { Reflector } from '@nestjs/core';
import { AccessGuard } from './access.guard.js';
import { Authenticated, Public } from './decorators/access.decorator.js';
import type { PrincipalService } from './principal.service.js';
import type { BearerAuthenticator } from './bearer-authenticator.js';
import { loadConfig } from '../config/app-config.js';
import type { InvalidationService } from '../database/invalidation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { PasswordService } from './password.service.js';
import type { DataSource } from 'typeorm';

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

const metrics = new MetricsService(loadConfig({}), {} as InvalidationService, {} as DataSource, {} as PasswordService);
const guard = new AccessGuard(new Reflector(), {} as PrincipalService, {} as BearerAuthenticator, loadConfig({}), metrics);

async function decisions(): Promise<Record<string, number>> {
  const { values } = await metrics.registry.getSingleMetric('apptoken_auth_decisions_total')!.get();
  return Object.fromEntries(values.filter((v) => v.value > 0).map((v) => [`${v.labels.via}/${v.labels.outcome}`, v.value]));
}

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

  it('counts a presented credential\'s refusal as one auth decision, and nothing for a request that presents none', async () => {
    const before = await decisions();
    await guard.canActivate(context('closed')).catch(() => undefined);
    expect(await decisions()).toEqual(before);
    await guard.canActivate(context('closed', { authorization: 'Basic YWRtaW46eA==' })).catch(() => undefined);
    expect(await decisions()).toEqual({ ...before, 'token/invalid': (before['token/invalid'] ?? 0) + 1 });
  });
});
