import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdentityEntity } from './identity.entity.js';
import { IdentityRepository } from './identity.repository.js';

/**
 * The identities' repository on its own, for features that read or create identities without the identity
 * API (the app-token grant that provisions a service identity, token migration). IdentityModule imports
 * AppTokenModule, so AppTokenModule cannot import IdentityModule back.
 */
@Module({
  imports: [TypeOrmModule.forFeature([IdentityEntity])],
  providers: [IdentityRepository],
  exports: [IdentityRepository],
})
export class IdentityStoreModule {}
