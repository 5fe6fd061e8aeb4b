import { BadRequestException, ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { AuditAction } from '../audit/audit.service.js';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import type { Transaction } from '../database/unit-of-work.js';
import { IDENTITY_NAME_MESSAGE, identityNameKey, isValidIdentityName } from '../identity/identity-name.js';
import { IdentityRepository } from '../identity/identity.repository.js';
import { RoleService } from '../role/role.service.js';
import { actorData, identityEventData } from '../webhook/webhook-events.js';
import { AppTokenRepository, type Grantee } from './app-token.repository.js';

/** Whom a grant names: by id or name; undefined: the caller. */
export interface GranteeRef {
  id?: number;
  name?: string;
  /** PSU's system identity (its issue 3185): a service identity, created by an Administrator's grant when missing. */
  system?: boolean;
}

/**
 * The identity a grant is for: the caller, another identity (Administrators only), or with `system: true` a
 * service identity, which an Administrator's grant creates (source `service`, no password, the roles asked
 * for) when none has that name, in the grant's own unit of work, audited and announced as `identity.created`.
 */
@Injectable()
export class GranteeResolver {
  constructor(
    private readonly tokens: AppTokenRepository,
    private readonly identities: IdentityRepository,
    private readonly roles: RoleService,
  ) {}

  async resolve(tx: Transaction, actor: Principal, ref: GranteeRef | undefined, requestedRoles: readonly string[] | undefined, address: string): Promise<Grantee> {
    if (ref?.system === true) return this.serviceIdentity(tx, actor, ref, requestedRoles, address);
    const identity = await this.tokens.findGrantee(
      tx.manager,
      ref?.id !== undefined ? { id: ref.id } : ref?.name !== undefined ? { nameKey: identityNameKey(ref.name) } : { id: actor.identityId },
    );
    if (identity && identity.id !== actor.identityId && !isAdministrator(actor)) {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, 'Only Administrators grant tokens to other identities');
    }
    if (!identity) throw new NotFoundException(`identity ${ref?.id ?? ref?.name ?? actor.identityId} not found`);
    return usable(identity);
  }

  /** `system: true`: the service identity of that name, created holding `requestedRoles` when there is none. */
  private async serviceIdentity(tx: Transaction, actor: Principal, ref: GranteeRef, requestedRoles: readonly string[] | undefined, address: string): Promise<Grantee> {
    if (!isAdministrator(actor)) {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, 'Only Administrators grant tokens with identity.system (a service identity, created when missing)');
    }
    if (ref.id !== undefined) throw new BadRequestException('identity.system names the service identity by identity.name, not identity.id');
    if (ref.name === undefined) throw new BadRequestException('identity.system needs identity.name: the service identity to grant to (created when missing)');
    if (!isValidIdentityName(ref.name)) throw new BadRequestException(`identity.${IDENTITY_NAME_MESSAGE}`);
    // Before the identity is looked up: a role that does not exist is a 400 whether or not the identity does.
    const roles = requestedRoles === undefined ? [] : await this.roles.resolve(requestedRoles, tx.manager);
    const existing = await this.tokens.findGrantee(tx.manager, { nameKey: identityNameKey(ref.name) });
    if (existing) return usable(serviceOnly(existing));
    if (roles.length === 0) throw new BadRequestException(`identity "${ref.name}" does not exist yet: name the role (or roles) its new service identity should hold`);
    // Another grant for the same new name may be creating it right now: findOrCreate then waits and reuses it.
    const { identity, created } = await this.identities.findOrCreate(tx.manager, { name: ref.name, source: 'service', roles });
    if (created) {
      const roleNames = identity.roles.map((role) => role.name);
      await tx.audit({ action: AuditAction.IdentityCreated, actor, targetIdentity: identity, address, detail: { roles: roleNames, source: identity.source, by: 'apptoken.grant' } });
      tx.emit({ type: 'identity.created', data: identityEventData({ id: identity.id, name: identity.name, source: identity.source, roles: roleNames }, { disabled: false, reason: 'system_grant', by: actorData(actor) }) });
    }
    return usable(serviceOnly(identity));
  }
}

/** A token for a person's (or a migrated) identity is an ordinary grant: `system` is refused rather than ignored. */
function serviceOnly(identity: Grantee): Grantee {
  if (identity.source !== 'service') {
    throw new ConflictException(`identity "${identity.name}" exists and is not a service identity (its source is ${identity.source}); grant to it without identity.system`);
  }
  return identity;
}

function usable(identity: Grantee): Grantee {
  if (identity.disabled) throw new ConflictException(`identity "${identity.name}" is disabled`);
  return identity;
}
