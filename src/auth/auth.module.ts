import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppTokenModule } from '../app-token/app-token.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { AccessGuard } from './access.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { PrincipalService } from './principal.service.js';
import { SessionModule } from './session.module.js';

@Module({
  imports: [IdentityModule, SessionModule, AppTokenModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    PrincipalService,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class AuthModule {}
