import { AuditAction } from '../audit/audit.service.js';
import { SessionEntity } from '../auth/session.entity.js';
import type { Transaction } from '../database/unit-of-work.js';
import { RoleEntity } from '../role/role.entity.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { identityEventData } from '../webhook/webhook-events.js';
import { identityNameKey } from './identity-name.js';
import { IdentityEntity } from './identity.entity.js';

export interface AdminAccountChange {
  /** The identity's name (ADMIN_USERNAME, or the CLI's --user). */
  name: string;
  /** The argon2id hash of the new password. */
  passwordHash: string;
  /** For the audit record: the password was generated rather than given. */
  generatedPassword: boolean;
  /** Whether a missing identity is created (the first start) or refused (a reset of one that must exist). */
  createIfMissing: boolean;
}

export interface AdminAccountResult {
  identity: IdentityEntity;
  /** True when an existing identity was reset, false when it was created. */
  reset: boolean;
}

/**
 * Sets up an Administrator inside the caller's unit of work: the one code path behind the first start's admin,
 * ADMIN_RESET_PASSWORD and `apptoken admin reset-password`. The identity gets the password, is enabled and
 * holds the built-in roles (PSU's admin token carries "Administrator, Operator, Reader"); a reset ends its
 * sessions and tells every instance (its tokens see the change), and is audited as identity.password_reset.
 * Undefined when the identity is missing and `createIfMissing` is false.
 */
export async function applyAdminAccount(tx: Transaction, change: AdminAccountChange): Promise<AdminAccountResult | undefined> {
  const { manager } = tx;
  const nameKey = identityNameKey(change.name);
  const existing = await manager.findOne(IdentityEntity, { where: { nameKey }, relations: { roles: true } });
  if (existing === null && !change.createIfMissing) return undefined;
  const builtins = await manager.find(RoleEntity, { where: { builtin: true } });
  const rolesBefore = sortRoleNames((existing?.roles ?? []).map((role) => role.name));
  const admin = existing ?? manager.create(IdentityEntity, { name: change.name, nameKey, source: 'local', roles: [] });
  admin.passwordHash = change.passwordHash;
  admin.disabled = false;
  admin.roles = [...admin.roles, ...builtins.filter((role) => !admin.roles.some((held) => held.id === role.id))];
  if (existing) admin.source = 'local';
  const saved = await manager.save(admin);
  const rolesAfter = sortRoleNames(saved.roles.map((role) => role.name));
  if (existing) {
    // A recovery: the old password's sessions end and its tokens see the change.
    await manager.delete(SessionEntity, { identityId: saved.id });
    tx.invalidate({ kind: 'identity', id: saved.id });
  }
  await tx.audit({
    action: existing ? AuditAction.AdminPasswordReset : AuditAction.AdminBootstrapped,
    targetIdentity: saved,
    detail: { generatedPassword: change.generatedPassword },
  });
  // The server (or the local CLI) acts here, not a signed-in caller: `by` is null.
  const subject = { id: saved.id, name: saved.name, source: saved.source, roles: rolesAfter };
  if (!existing) tx.emit({ type: 'identity.created', data: identityEventData(subject, { disabled: false, reason: 'bootstrap', by: null }) });
  else if (rolesBefore.join('\n') !== rolesAfter.join('\n')) {
    tx.emit({ type: 'identity.roles_changed', data: identityEventData(subject, { before: rolesBefore, after: rolesAfter, reason: 'admin_reset', by: null }) });
  }
  return { identity: saved, reset: existing !== null };
}
