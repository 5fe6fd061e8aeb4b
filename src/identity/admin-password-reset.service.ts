import { Injectable } from '@nestjs/common';
import { PasswordService } from '../auth/password.service.js';
import { BOOTSTRAP_LOCK } from '../database/locks.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { applyAdminAccount } from './admin-account.js';
import type { IdentityEntity } from './identity.entity.js';

/**
 * `apptoken admin reset-password`: ADMIN_RESET_PASSWORD without a restart, for when no one can sign in. The same
 * code path (applyAdminAccount): the identity gets the password (argon2id), is enabled, holds the built-in roles,
 * loses its sessions, and the reset is audited as identity.password_reset. It must exist: this never creates one.
 */
@Injectable()
export class AdminPasswordReset {
  constructor(
    private readonly passwords: PasswordService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async reset(name: string, password: string, generated: boolean): Promise<IdentityEntity | undefined> {
    const passwordHash = await this.passwords.hash(password);
    const result = await this.unitOfWork.run((tx) => applyAdminAccount(tx, { name, passwordHash, generatedPassword: generated, createIfMissing: false }), {
      lock: BOOTSTRAP_LOCK,
    });
    return result?.identity;
  }
}
