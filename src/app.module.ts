import { Module, type DynamicModule } from '@nestjs/common';
import { AppTokenModule } from './app-token/app-token.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EndpointModule } from './endpoint/endpoint.module.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RoleModule } from './role/role.module.js';
import { WebhookModule } from './webhook/webhook.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** The database to use: DATABASE_URL, or the embedded server's. */
  databaseUrl: string;
  poolSize: number;
  /** The database is the embedded PGlite. */
  embedded: boolean;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(options.config),
        DatabaseModule.forRoot({ url: options.databaseUrl, poolSize: options.poolSize, embedded: options.embedded }),
        AuditModule,
        RoleModule,
        IdentityModule,
        AuthModule.forRoot(AppTokenModule),
        EndpointModule,
        GatewayModule,
        HealthModule,
        MetricsModule,
        WebhookModule,
      ],
    };
  }
}
