import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppTokenModule } from '../app-token/app-token.module.js';
import { SessionModule } from '../auth/session.module.js';
import { RoleModule } from '../role/role.module.js';
import { AdminBootstrapService } from './admin-bootstrap.service.js';
import { IdentityController } from './identity.controller.js';
import { IdentityEntity } from './identity.entity.js';
import { IdentityRepository } from './identity.repository.js';
import { IdentityService } from './identity.service.js';
import { InitialAdminPassword } from './initial-admin-password.js';

@Module({
  imports: [TypeOrmModule.forFeature([IdentityEntity]), RoleModule, SessionModule, AppTokenModule],
  controllers: [IdentityController],
  providers: [IdentityRepository, IdentityService, AdminBootstrapService, InitialAdminPassword],
  exports: [IdentityRepository, IdentityService, AdminBootstrapService, InitialAdminPassword],
})
export class IdentityModule {}
