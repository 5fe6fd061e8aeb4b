import { Injectable, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import type { BearerAuthenticator } from '../auth/bearer-authenticator.js';
import type { Principal } from '../auth/principal.js';
import { AppTokenStrategy, passportError } from './app-token.strategy.js';

/**
 * What the global AccessGuard calls for `Authorization: Bearer`: passport runs this application's own
 * AppTokenStrategy instance. Not @nestjs/passport's AuthGuard(name): that looks the strategy up by name in
 * passport's process-wide registry, where the last application created in the process wins, so a second
 * application in one process (two instances in one test process, say) would check this one's tokens
 * against its own caches and database. passport takes a strategy object too; a fresh object per request
 * (Object.create) keeps the callbacks passport attaches to it from crossing between concurrent requests.
 */
@Injectable()
export class AppTokenAuthenticator implements BearerAuthenticator {
  constructor(private readonly strategy: AppTokenStrategy) {}

  authenticate(context: ExecutionContext): Promise<Principal> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    return new Promise<Principal>((resolve, reject) => {
      const run = passport.authenticate(Object.create(this.strategy) as passport.Strategy, { session: false }, (error: unknown, user: Principal | false, info: unknown) => {
        if (error || !user) reject(passportError(error, info));
        else resolve(user);
      }) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      run(request, reply, (error?: unknown) => reject(error ?? passportError(undefined, undefined)));
    });
  }
}
