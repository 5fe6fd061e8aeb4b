import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditAction } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { pageWindow, type PageQueryDto } from '../common/pagination.js';
import { UnitOfWork, type Transaction } from '../database/unit-of-work.js';
import { ENDPOINT_RULES_LOCK } from '../database/locks.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import { RoleService } from '../role/role.service.js';
import type { CreateEndpointDto, EndpointDto, UpdateEndpointDto } from './dto/endpoint.dto.js';
import { EndpointRuleEntity } from './endpoint-rule.entity.js';
import { ANY_METHOD, parsePattern, patternShape } from './route-matcher.js';

export function toEndpointDto(rule: EndpointRuleEntity): EndpointDto {
  return {
    id: rule.id,
    url: rule.url,
    method: rule.methods.length === 0 ? [ANY_METHOD] : rule.methods,
    authentication: rule.authentication,
    role: sortRoleNames(rule.roles.map((role) => role.name)),
  };
}

/** "*", "ANY" or nothing: any method (stored as an empty list). */
function normalizeMethods(methods: string[] | undefined): string[] {
  if (methods === undefined || methods.some((m) => m === ANY_METHOD || m === 'ANY')) return [];
  return [...new Set(methods)].sort();
}


/** CRUD of custom API endpoint rules (Administrators); every change is audited and reaches every instance. */
@Injectable()
export class EndpointService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly roles: RoleService,
    private readonly work: UnitOfWork,
  ) {}

  async list(query: PageQueryDto): Promise<[EndpointDto[], number]> {
    const { skip, take } = pageWindow(query);
    const [rules, total] = await this.dataSource.getRepository(EndpointRuleEntity).findAndCount({ relations: { roles: true }, order: { id: 'ASC' }, skip, take });
    return [rules.map(toEndpointDto), total];
  }

  async get(id: number): Promise<EndpointDto> {
    return toEndpointDto(await this.getEntity(id, this.dataSource.manager));
  }

  async create(actor: Principal, dto: CreateEndpointDto, address: string): Promise<EndpointDto> {
    const rule = await this.change(async ({ manager, audit }) => {
      const created = manager.create(EndpointRuleEntity, {
        url: this.validUrl(dto.url),
        methods: normalizeMethods(dto.method),
        authentication: dto.authentication ?? true,
        roles: await this.resolveRoles(dto, manager),
      });
      this.assertConsistent(created);
      await this.assertNoOverlap(manager, created);
      const saved = await manager.save(created);
      await audit({ action: AuditAction.EndpointCreated, actor, address, detail: { endpoint: toEndpointDto(saved) } });
      return saved;
    });
    return toEndpointDto(rule);
  }

  async update(actor: Principal, id: number, dto: UpdateEndpointDto, address: string): Promise<EndpointDto> {
    const rule = await this.change(async ({ manager, audit }) => {
      const rule = await this.getEntity(id, manager);
      const before = toEndpointDto(rule);
      if (dto.url !== undefined) rule.url = this.validUrl(dto.url);
      if (dto.method !== undefined) rule.methods = normalizeMethods(dto.method);
      if (dto.authentication !== undefined) rule.authentication = dto.authentication;
      if (dto.role !== undefined || dto.roles !== undefined) rule.roles = await this.resolveRoles(dto, manager);
      this.assertConsistent(rule);
      await this.assertNoOverlap(manager, rule);
      const saved = await manager.save(rule);
      await audit({ action: AuditAction.EndpointUpdated, actor, address, detail: { before, after: toEndpointDto(saved) } });
      return saved;
    });
    return toEndpointDto(rule);
  }

  async delete(actor: Principal, id: number, address: string): Promise<void> {
    await this.change(async ({ manager, audit }) => {
      const rule = await this.getEntity(id, manager);
      await manager.delete(EndpointRuleEntity, { id });
      await audit({ action: AuditAction.EndpointDeleted, actor, address, detail: { endpoint: toEndpointDto(rule) } });
      return rule;
    });
  }

  /** Runs a change under the rules lock; every instance's copy of the rules is dropped when it commits. */
  private change<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.work.run(
      (tx) => {
        tx.invalidate({ kind: 'endpoints' });
        return work(tx);
      },
      { lock: ENDPOINT_RULES_LOCK },
    );
  }

  private validUrl(url: string): string {
    const parsed = parsePattern(url);
    if (typeof parsed === 'string') throw new BadRequestException(parsed);
    return url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
  }

  private async resolveRoles(dto: { role?: string[]; roles?: string[] }, manager: EntityManager) {
    if (dto.role !== undefined && dto.roles !== undefined) throw new BadRequestException('give the roles as either "role" or "roles", not both');
    return this.roles.resolve(dto.role ?? dto.roles ?? [], manager);
  }

  private assertConsistent(rule: EndpointRuleEntity): void {
    if (!rule.authentication && rule.roles.length > 0) {
      throw new BadRequestException('a rule without authentication cannot require roles (no token is asked for)');
    }
  }

  /** Two rules of the same shape for a common method would make the choice between them arbitrary. */
  private async assertNoOverlap(manager: EntityManager, rule: EndpointRuleEntity): Promise<void> {
    const shape = patternShape(parsePattern(rule.url) as never);
    const others = await manager.getRepository(EndpointRuleEntity).find();
    const clash = others.find(
      (other) =>
        other.id !== rule.id &&
        patternShape(parsePattern(other.url) as never) === shape &&
        (other.methods.length === 0 || rule.methods.length === 0 ? other.methods.length === rule.methods.length : other.methods.some((m) => rule.methods.includes(m))),
    );
    if (clash) {
      throw new ConflictException(`endpoint rule ${clash.id} (${clash.url}) already covers ${rule.methods.length === 0 ? 'any method' : rule.methods.join(', ')} on the same paths`);
    }
  }

  private async getEntity(id: number, manager: EntityManager): Promise<EndpointRuleEntity> {
    const rule = await manager.getRepository(EndpointRuleEntity).findOne({ where: { id }, relations: { roles: true } });
    if (!rule) throw new NotFoundException(`endpoint rule ${id} not found`);
    return rule;
  }
}
