import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type EntityManager, type Repository } from 'typeorm';
import { AuditAction } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { ENDPOINT_RULES_LOCK } from '../database/locks.js';
import { isUniqueViolation } from '../common/database-errors.js';

import type { CreateRoleDto, RoleDto, UpdateRoleDto } from './dto/role.dto.js';
import { roleNameKey } from './role-name.js';
import { sortRoleNames } from './sort-role-names.js';
import { RoleEntity } from './role.entity.js';
import { actorData, identityEventData } from '../webhook/webhook-events.js';
import type { IdentitySource } from '../auth/principal.js';

export function toRoleDto(role: RoleEntity): RoleDto {
  return { id: role.id, name: role.name, description: role.description, builtin: role.builtin, created: role.createdAt.toISOString() };
}

@Injectable()
export class RoleService {
  constructor(
    @InjectRepository(RoleEntity) private readonly roles: Repository<RoleEntity>,
    private readonly work: UnitOfWork,
  ) {}

  async list(): Promise<RoleDto[]> {
    // Read for display only: rows, not entities.
    const rows = (await this.roles.query('SELECT id, name, description, builtin, created_at FROM role')) as Array<{ id: number; name: string; description: string; builtin: boolean; created_at: Date }>;
    const order = new Map(sortRoleNames(rows.map((row) => row.name)).map((name, index) => [name, index]));
    return rows
      .sort((a, b) => order.get(a.name)! - order.get(b.name)!)
      .map((row) => ({ id: row.id, name: row.name, description: row.description, builtin: row.builtin, created: row.created_at.toISOString() }));
  }

  async get(name: string): Promise<RoleDto> {
    return toRoleDto(await this.getEntity(name));
  }

  /** The roles named, by their folded names; 400 naming the first unknown one. */
  async resolve(names: readonly string[], manager?: EntityManager): Promise<RoleEntity[]> {
    const keys = [...new Set(names.map(roleNameKey))];
    if (keys.length === 0) return [];
    // Inside a transaction the roles are locked as a foreign key would lock them: a concurrent deletion
    // waits for this change (and then takes the role away from it) instead of failing it.
    const found = manager
      ? await manager.getRepository(RoleEntity).find({ where: { nameKey: In(keys) }, lock: { mode: 'for_key_share' } })
      : await this.roles.find({ where: { nameKey: In(keys) } });
    const byKey = new Map(found.map((role) => [role.nameKey, role]));
    for (const name of names) {
      if (!byKey.has(roleNameKey(name))) throw new BadRequestException(`unknown role "${name.slice(0, 64)}"`);
    }
    return keys.map((key) => byKey.get(key)!);
  }

  async create(actor: Principal, dto: CreateRoleDto, address: string): Promise<RoleDto> {
    const nameKey = roleNameKey(dto.name);
    await this.assertNameFree(dto.name, nameKey);
    try {
      const role = await this.work.run(async ({ manager, audit }) => {
        const role = await manager.save(manager.create(RoleEntity, { name: dto.name, nameKey, description: dto.description ?? '', builtin: false }));
        await audit({ action: AuditAction.RoleCreated, actor, address, detail: { role: role.name } });
        return role;
      });
      return toRoleDto(role);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException(`a role named like "${dto.name}" already exists`);
      throw error;
    }
  }

  async update(actor: Principal, name: string, dto: UpdateRoleDto, address: string): Promise<RoleDto> {
    const role = await this.getEntity(name);
    if (role.builtin) throw new ConflictException(`${role.name} is a built-in role and cannot be changed`);
    const previousName = role.name;
    if (dto.name !== undefined && dto.name !== role.name) {
      const nameKey = roleNameKey(dto.name);
      if (nameKey !== role.nameKey) await this.assertNameFree(dto.name, nameKey);
      role.name = dto.name;
      role.nameKey = nameKey;
    }
    if (dto.description !== undefined) role.description = dto.description;
    try {
      await this.work.run(async ({ manager, audit, invalidate }) => {
        await manager.save(role);
        await audit({ action: AuditAction.RoleUpdated, actor, address, detail: { role: role.name, previousName } });
        // Cached identities carry role names.
        invalidate({ kind: 'all' });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException(`a role named like "${dto.name}" already exists`);
      throw error;
    }
    return toRoleDto(role);
  }

  async delete(actor: Principal, name: string, address: string): Promise<void> {
    const role = await this.getEntity(name);
    if (role.builtin) throw new ConflictException(`${role.name} is a built-in role and cannot be deleted`);
    // Under the rules' lock, so no rule can take up this role between the check and the delete.
    await this.work.run(async ({ manager, audit, invalidate, emit }) => {
      // Dropping it from an endpoint rule's list would quietly open that rule to every token.
      const [{ rules }] = (await manager.query('SELECT array_agg(endpoint_rule_id ORDER BY endpoint_rule_id) AS rules FROM endpoint_rule_role WHERE role_id = $1', [role.id])) as Array<{ rules: number[] | null }>;
      if (rules) throw new ConflictException(`role ${role.name} is required by endpoint rule ${rules.join(', ')}; change those rules first`);
      // Read before the delete takes the role from them (identity_role cascades): each loses it, and is told.
      const holders = (await manager.query(
        `SELECT i.id, i.name, i.source, ARRAY(SELECT r.name FROM identity_role h JOIN role r ON r.id = h.role_id WHERE h.identity_id = i.id) AS roles
           FROM identity i JOIN identity_role ir ON ir.identity_id = i.id WHERE ir.role_id = $1 ORDER BY i.id`,
        [role.id],
      )) as Array<{ id: number; name: string; source: IdentitySource; roles: string[] }>;
      await manager.delete(RoleEntity, { id: role.id });
      await audit({ action: AuditAction.RoleDeleted, actor, address, detail: { role: role.name } });
      const by = actorData(actor);
      for (const holder of holders) {
        const before = sortRoleNames(holder.roles);
        const after = before.filter((name) => name !== role.name);
        emit({ type: 'identity.roles_changed', data: identityEventData({ ...holder, roles: after }, { before, after, reason: 'role_deleted', by }) });
      }
      // Every identity and token holding it loses it at once.
      invalidate({ kind: 'all' });
    }, { lock: ENDPOINT_RULES_LOCK });
  }

  private async getEntity(name: string): Promise<RoleEntity> {
    const role = await this.roles.findOne({ where: { nameKey: roleNameKey(name) } });
    if (!role) throw new NotFoundException(`role "${name.slice(0, 64)}" not found`);
    return role;
  }

  private async assertNameFree(name: string, nameKey: string): Promise<void> {
    const existing = await this.roles.findOne({ where: { nameKey } });
    if (existing) {
      throw new ConflictException(
        existing.builtin
          ? `"${name}" imitates the built-in role ${existing.name}`
          : `"${name}" is the same name as the existing role ${existing.name} (names are compared ignoring case and look-alike characters)`,
      );
    }
  }
}
