import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service.js';
import { PasswordService } from '../auth/password.service.js';
import { randomSecret } from '../common/crypto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RoleEntity } from '../role/role.entity.js';
import { identityNameKey } from './identity-name.js';
import { IdentityEntity } from './identity.entity.js';

const BOOTSTRAP_LOCK = 5_000_421_339;

export interface BootstrappedAdmin {
  name: string;
  /** Set only when this start generated it; shown once on the console, never logged. */
  generatedPassword?: string;
}

/** On an empty database, creates the first Administrator (contract §1: ADMIN_USERNAME / ADMIN_PASSWORD). */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);
  /** What this start created; undefined when the database already had identities. */
  created: BootstrappedAdmin | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.dataSource.getRepository(IdentityEntity).count()) > 0) return;
    const generatedPassword = this.config.adminPassword === undefined ? randomSecret(18) : undefined;
    const password = this.config.adminPassword ?? generatedPassword!;
    const passwordHash = await this.passwords.hash(password);
    this.created = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
      if ((await manager.count(IdentityEntity)) > 0) return undefined;
      // All three built-in roles, as PSU's admin: its own token then carries "Administrator, Operator, Reader".
      const builtins = await manager.find(RoleEntity, { where: { builtin: true } });
      const admin = await manager.save(
        manager.create(IdentityEntity, {
          name: this.config.adminUsername,
          nameKey: identityNameKey(this.config.adminUsername),
          source: 'local',
          passwordHash,
          disabled: false,
          roles: builtins,
        }),
      );
      await this.audit.record({ action: AuditAction.AdminBootstrapped, targetIdentity: admin, detail: { generatedPassword: generatedPassword !== undefined } }, manager);
      return { name: admin.name, generatedPassword };
    });
    if (this.created) this.logger.log(`created the first Administrator "${this.created.name}"`);
  }
}
