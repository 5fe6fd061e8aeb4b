import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { BearerAuthenticator } from '../auth/bearer-authenticator.js';
import type { Principal } from '../auth/principal.js';
import { APP_TOKEN_STRATEGY, passportError } from './app-token.strategy.js';

/** @nestjs/passport's guard for the app-token strategy, reporting refusals with their reason. */
@Injectable()
export class AppTokenPassportGuard extends AuthGuard(APP_TOKEN_STRATEGY) {
  override handleRequest<TUser = Principal>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error || !user) throw passportError(error, info);
    return user;
  }
}

/** What the global AccessGuard calls for `Authorization: Bearer`. */
@Injectable()
export class AppTokenAuthenticator implements BearerAuthenticator {
  constructor(private readonly guard: AppTokenPassportGuard) {}

  async authenticate(context: ExecutionContext): Promise<Principal> {
    await this.guard.canActivate(context);
    return (context.switchToHttp().getRequest<FastifyRequest>() as FastifyRequest & { user: Principal }).user;
  }
}
