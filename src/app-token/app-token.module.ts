import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BEARER_AUTHENTICATOR } from '../auth/bearer-authenticator.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { IdentityStoreModule } from '../identity/identity-store.module.js';
import { RoleModule } from '../role/role.module.js';
import { AppTokenAuthenticator } from './app-token-authenticator.js';
import { AppTokenVerifier } from './app-token-verifier.js';
import { AppTokenBulkRepository } from './app-token-bulk.repository.js';
import { AppTokenBulkService } from './app-token-bulk.service.js';
import { AppTokenHousekeepingService } from './app-token-housekeeping.service.js';
import { AppTokenController } from './app-token.controller.js';
import { AppTokenEntity } from './app-token.entity.js';
import { AppTokenMigrationService } from './app-token-migration.service.js';
import { AppTokenQueryService } from './app-token-query.service.js';
import { AppTokenReadRepository } from './app-token-read.repository.js';
import { AppTokenRepository } from './app-token.repository.js';
import { AppTokenService } from './app-token.service.js';
import { AppTokenStrategy } from './app-token.strategy.js';
import { ExpiringTokenScan } from './expiring-token-scan.service.js';
import { RevokedUseReporter } from './revoked-use.reporter.js';
import { GranteeResolver } from './grantee-resolver.js';
import { LastUsedTracker } from './last-used.tracker.js';
import { SigningKeys } from './signing-keys.js';
import { TokenIssuer } from './token-issuer.js';
import { TokenMinter } from './token-minter.js';
import { TokenRecords } from './token-records.js';

@Module({
  imports: [PassportModule, JwtModule.register({}), TypeOrmModule.forFeature([AppTokenEntity]), IdentityStoreModule, RoleModule],
  controllers: [AppTokenController],
  providers: [
    {
      provide: SigningKeys,
      inject: [APP_CONFIG],
      // Start-up has resolved the key (configured, or generated in embedded mode).
      useFactory: (config: AppConfig) => new SigningKeys(config.jwt.signingKey!, config.jwt.previousSigningKeys),
    },
    AppTokenService,
    GranteeResolver,
    AppTokenBulkService,
    AppTokenBulkRepository,
    AppTokenQueryService,
    AppTokenMigrationService,
    AppTokenRepository,
    AppTokenReadRepository,
    TokenIssuer,
    TokenMinter,
    AppTokenVerifier,
    AppTokenStrategy,
    AppTokenAuthenticator,
    TokenRecords,
    LastUsedTracker,
    AppTokenHousekeepingService,
    ExpiringTokenScan,
    RevokedUseReporter,
    { provide: BEARER_AUTHENTICATOR, useExisting: AppTokenAuthenticator },
  ],
  exports: [BEARER_AUTHENTICATOR, AppTokenService, AppTokenVerifier, LastUsedTracker],
})
export class AppTokenModule {}
