import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { IdentityModule } from '../identity/identity.module.js';
import { AccessGuard } from './access.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { BEARER_AUTHENTICATOR } from './bearer-authenticator.js';
import { PrincipalService } from './principal.service.js';
import { SessionModule } from './session.module.js';
import { UnauthorizedException } from '@nestjs/common';

@Module({
  imports: [IdentityModule, SessionModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    PrincipalService,
    { provide: APP_GUARD, useClass: AccessGuard },
    {
      // No app tokens exist before the app-token module: every bearer token is invalid.
      provide: BEARER_AUTHENTICATOR,
      useValue: { authenticate: () => Promise.reject(new UnauthorizedException('Invalid app token')) },
    },
  ],
})
export class AuthModule {}
