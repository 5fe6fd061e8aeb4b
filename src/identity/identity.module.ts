import { Module } from '@nestjs/common';
import { AppTokenModule } from '../app-token/app-token.module.js';
import { SessionModule } from '../auth/session.module.js';
import { RoleModule } from '../role/role.module.js';
import { AdminBootstrapService } from './admin-bootstrap.service.js';
import { IdentityController } from './identity.controller.js';
import { IdentityStoreModule } from './identity-store.module.js';
import { IdentityService } from './identity.service.js';
import { InitialAdminPassword } from './initial-admin-password.js';

@Module({
  imports: [IdentityStoreModule, RoleModule, SessionModule, AppTokenModule],
  controllers: [IdentityController],
  providers: [IdentityService, AdminBootstrapService, InitialAdminPassword],
  exports: [IdentityStoreModule, IdentityService, AdminBootstrapService, InitialAdminPassword],
})
export class IdentityModule {}
