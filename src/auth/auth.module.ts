import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { IdentityModule } from '../identity/identity.module.js';
import { AccessGuard } from './access.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { PrincipalService } from './principal.service.js';
import { SessionModule } from './session.module.js';

@Module({})
export class AuthModule {
  /**
   * `bearer` is the module that exports BEARER_AUTHENTICATOR (the app tokens'): the application chooses
   * it, so sign-in and the global guard do not depend on the app-token feature.
   */
  static forRoot(bearer: Type | DynamicModule): DynamicModule {
    return {
      module: AuthModule,
      imports: [IdentityModule, SessionModule, bearer],
      controllers: [AuthController],
      providers: [AuthService, PrincipalService, { provide: APP_GUARD, useClass: AccessGuard }],
    };
  }
}
