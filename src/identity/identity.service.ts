import { BadRequestException, ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import type { EntityManager } from 'typeorm';
import { AppTokenService } from '../app-token/app-token.service.js';
import { AuditAction } from '../audit/audit.service.js';
import { PasswordService } from '../auth/password.service.js';
import type { Principal } from '../auth/principal.js';
import { SessionService } from '../auth/session.service.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { pageWindow } from '../common/pagination.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { ADMIN_GUARD_LOCK } from '../database/locks.js';
import { RoleService } from '../role/role.service.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { actorData, identityEventData } from '../webhook/webhook-events.js';
import type { CreateIdentityDto, IdentityDto, ListIdentitiesQueryDto, UpdateIdentityDto } from './dto/identity.dto.js';
import { identityNameKey, nameKeyFits } from './identity-name.js';
import { IdentityEntity } from './identity.entity.js';
import { identityDtoOf, toIdentityDto } from './identity.mapper.js';
import { IdentityRepository } from './identity.repository.js';


function assertNameFits(name: string): void {
  if (!nameKeyFits(name)) throw new BadRequestException('name is longer than 256 characters once Unicode-normalised');
}

function requestedRoles(dto: { roles?: string[]; role?: string[] }): string[] | undefined {
  if (dto.roles !== undefined && dto.role !== undefined) {
    throw new BadRequestException('give the roles as either "roles" or "role", not both');
  }
  return dto.roles ?? dto.role;
}

/** An identity's role names as events carry them: in the app's role order. */
function roleNamesOf(identity: IdentityEntity): string[] {
  return sortRoleNames(identity.roles.map((role) => role.name));
}

@Injectable()
export class IdentityService {
  constructor(
    private readonly identities: IdentityRepository,
    private readonly roles: RoleService,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly work: UnitOfWork,
    private readonly appTokens: AppTokenService,
  ) {}

  async list(query: ListIdentitiesQueryDto): Promise<[IdentityDto[], number]> {
    const { skip, take } = pageWindow(query);
    const [identities, total] = await this.identities.list(skip, take, query.search);
    return [identities.map(identityDtoOf), total];
  }

  async get(id: number): Promise<IdentityDto> {
    const identity = await this.identities.getView(id);
    if (!identity) throw new NotFoundException(`identity ${id} not found`);
    return identityDtoOf(identity);
  }

  async create(actor: Principal, dto: CreateIdentityDto, address: string): Promise<IdentityDto> {
    assertNameFits(dto.name);
    const source = dto.source ?? 'local';
    if (source === 'local' && dto.password === undefined) {
      throw new BadRequestException('password is required for a local identity (use source "service" for one without)');
    }
    if (source === 'service' && dto.password !== undefined) {
      throw new BadRequestException('a service identity has no password; it uses app tokens');
    }
    const roleNames = requestedRoles(dto) ?? [];
    const passwordHash = dto.password === undefined ? null : await this.passwords.hash(dto.password);
    const identity = await this.work
      .run(async ({ manager, audit, emit }) => {
        const created = await manager.save(
          manager.create(IdentityEntity, {
            name: dto.name,
            nameKey: identityNameKey(dto.name),
            source,
            passwordHash,
            disabled: dto.disabled ?? false,
            roles: await this.roles.resolve(roleNames, manager),
          }),
        );
        await audit({ action: AuditAction.IdentityCreated, actor, targetIdentity: created, address, detail: { roles: created.roles.map((r) => r.name), source } });
        emit({ type: 'identity.created', data: identityEventData({ id: created.id, name: created.name, source, roles: roleNamesOf(created) }, { disabled: created.disabled, by: actorData(actor) }) });
        return created;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new ConflictException(`an identity named "${dto.name}" already exists (names are case-insensitive)`);
        throw error;
      });
    return toIdentityDto(identity);
  }

  async update(actor: Principal, id: number, dto: UpdateIdentityDto, address: string): Promise<IdentityDto> {
    if (dto.name !== undefined) assertNameFits(dto.name);
    const roleNames = requestedRoles(dto);
    const passwordHash = dto.password === undefined ? undefined : await this.passwords.hash(dto.password);
    const identity = await this.work
      .run(async ({ manager, audit, invalidate, emit }) => {
        const identity = await this.getEntity(id, manager);
        const rolesBefore = roleNamesOf(identity);
        const changed: string[] = [];
        if (dto.name !== undefined && dto.name !== identity.name) {
          identity.name = dto.name;
          identity.nameKey = identityNameKey(dto.name);
          changed.push('name');
        }
        if (passwordHash !== undefined) {
          if (identity.source !== 'local') throw new BadRequestException(`a ${identity.source} identity has no password`);
          identity.passwordHash = passwordHash;
          changed.push('password');
        }
        if (roleNames !== undefined) {
          identity.roles = await this.roles.resolve(roleNames, manager);
          changed.push('roles');
        }
        if (dto.disabled !== undefined && dto.disabled !== identity.disabled) {
          identity.disabled = dto.disabled;
          changed.push(dto.disabled ? 'disabled' : 'enabled');
        }
        await manager.save(identity);
        await this.assertAdministratorRemains(manager, 'that change would leave no enabled Administrator');
        if (identity.disabled || passwordHash !== undefined) {
          // A disabled identity, or one whose password changed, keeps no session (but the admin's own current one).
          await this.sessions.deleteForIdentity(identity.id, manager, actor.identityId === identity.id ? actor.sessionId : undefined);
        }
        await audit({ action: AuditAction.IdentityUpdated, actor, targetIdentity: identity, address, detail: { changed, roles: identity.roles.map((r) => r.name) } });
        const rolesAfter = roleNamesOf(identity);
        // Only a real change of the set: the same roles sent again (or in another order or letter case) is none.
        if (rolesBefore.join('\n') !== rolesAfter.join('\n')) {
          emit({
            type: 'identity.roles_changed',
            data: identityEventData({ id: identity.id, name: identity.name, source: identity.source, roles: rolesAfter }, { before: rolesBefore, after: rolesAfter, by: actorData(actor) }),
          });
        }
        // Its tokens must see the new roles, name or disabled flag at once, on every instance.
        invalidate({ kind: 'identity', id: identity.id });
        return identity;
      }, { lock: ADMIN_GUARD_LOCK })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new ConflictException(`an identity named "${dto.name}" already exists (names are case-insensitive)`);
        throw error;
      });
    return toIdentityDto(identity);
  }

  async delete(actor: Principal, id: number, address: string): Promise<void> {
    await this.work.run(
      async (tx) => {
        const identity = await this.getEntity(id, tx.manager);
        // Its tokens go with it (tombstoned by the table's trigger); tokens granted with them, perhaps to
        // other identities, are revoked, then removed with them.
        await this.appTokens.revokeDescendants(tx, actor, { identityId: id }, new Date(), address, 'parent_deleted');
        const tokensDeleted = await this.appTokens.removeTokensOfIdentity(tx, actor, id);
        await tx.manager.delete(IdentityEntity, { id });
        await this.assertAdministratorRemains(tx.manager, 'it is the last enabled Administrator');
        await tx.audit({ action: AuditAction.IdentityDeleted, actor, targetIdentity: identity, address });
        tx.emit({ type: 'identity.deleted', data: identityEventData({ id: identity.id, name: identity.name, source: identity.source, roles: roleNamesOf(identity) }, { tokensDeleted, by: actorData(actor) }) });
        tx.invalidate({ kind: 'identity', id });
      },
      { lock: ADMIN_GUARD_LOCK },
    );
  }

  private async assertAdministratorRemains(manager: EntityManager, reason: string): Promise<void> {
    if ((await this.identities.countEnabledAdministrators(manager)) === 0) {
      throw new ApiException(HttpStatus.CONFLICT, ErrorCode.LAST_ADMINISTRATOR, `refused: ${reason}`);
    }
  }

  private async getEntity(id: number, manager?: EntityManager): Promise<IdentityEntity> {
    const identity = await this.identities.getById(id, manager);
    if (!identity) throw new NotFoundException(`identity ${id} not found`);
    return identity;
  }
}
