import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PasswordService } from '../auth/password.service.js';
import { randomSecret } from '../common/crypto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { BOOTSTRAP_LOCK } from '../database/locks.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { applyAdminAccount } from './admin-account.js';
import { identityNameKey } from './identity-name.js';
import { IdentityEntity } from './identity.entity.js';
import { InitialAdminPassword } from './initial-admin-password.js';

export interface BootstrappedAdmin {
  name: string;
  /** Set only when this start generated it; shown on the console, never logged. */
  generatedPassword?: string;
  /** True when ADMIN_RESET_PASSWORD reset an existing identity rather than creating one. */
  reset: boolean;
}

/** A generated admin password nobody has signed in with yet: shown at every start until then. */
export interface PendingAdminPassword {
  name: string;
  password: string;
  /** Where it is kept until its first sign-in; undefined when DATA_DIR could not be written (shown this once). */
  file: string | undefined;
}

/**
 * On an empty database, creates the first Administrator (contract §1: ADMIN_USERNAME / ADMIN_PASSWORD).
 * With ADMIN_RESET_PASSWORD=true, recovers a lost admin instead: that identity gets the password (given or
 * generated), is enabled, holds the built-in roles, and loses its sessions.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);
  /** What this start created; undefined when the database already had identities. */
  created: BootstrappedAdmin | undefined;
  /** The generated password to show on the console at this start, if one is still waiting for its first sign-in. */
  pending: PendingAdminPassword | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly passwords: PasswordService,
    private readonly unitOfWork: UnitOfWork,
    private readonly initialPassword: InitialAdminPassword,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrap();
    this.pending = await this.pendingPassword();
  }

  private async bootstrap(): Promise<void> {
    const empty = (await this.dataSource.getRepository(IdentityEntity).count()) === 0;
    if (!empty && !this.config.adminResetPassword) return;
    const generatedPassword = this.config.adminPassword === undefined ? randomSecret(18) : undefined;
    const passwordHash = await this.passwords.hash(this.config.adminPassword ?? generatedPassword!);
    let kept = false;
    this.created = await this.unitOfWork.run(async (tx) => {
      const anyone = (await tx.manager.count(IdentityEntity)) > 0;
      if (anyone && !this.config.adminResetPassword) return undefined;
      const result = await applyAdminAccount(tx, {
        name: this.config.adminUsername,
        passwordHash,
        generatedPassword: generatedPassword !== undefined,
        createIfMissing: true,
      });
      const saved = result!.identity;
      // Kept before the commit: an admin never exists whose generated password is only on a console.
      if (generatedPassword !== undefined) kept = await this.initialPassword.keep(generatedPassword);
      return { name: saved.name, generatedPassword, reset: result!.reset };
    }, { lock: BOOTSTRAP_LOCK });
    // A configured password replaces a generated one nobody used: that one no longer works.
    if (this.created && generatedPassword === undefined) await this.initialPassword.discard();
    if (this.created?.generatedPassword !== undefined && !kept) {
      this.pending = { name: this.created.name, password: this.created.generatedPassword, file: undefined };
    }
    if (this.created?.reset) {
      this.logger.warn(`ADMIN_RESET_PASSWORD: reset the password of "${this.created.name}"; remove the variable, or it resets again at every start`);
    } else if (this.created) {
      this.logger.log(`created the Administrator "${this.created.name}"`);
    }
  }

  /**
   * The kept generated password, while it still signs ADMIN_USERNAME in (one argon2 check at start);
   * a kept password that no longer works (changed, or a new database) is removed instead of shown.
   */
  private async pendingPassword(): Promise<PendingAdminPassword | undefined> {
    if (this.pending) return this.pending;
    const password = await this.initialPassword.read();
    if (password === undefined) return undefined;
    const admin = await this.dataSource.getRepository(IdentityEntity).findOne({ where: { nameKey: identityNameKey(this.config.adminUsername) } });
    if (admin && !admin.disabled && (await this.passwords.verify(admin.passwordHash ?? null, password))) {
      return { name: admin.name, password, file: this.initialPassword.file };
    }
    await this.initialPassword.discard();
    return undefined;
  }
}
