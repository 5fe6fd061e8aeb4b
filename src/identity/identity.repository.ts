import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import type { IdentityFacts, IdentitySource } from '../auth/principal.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import type { RoleEntity } from '../role/role.entity.js';
import { IdentityEntity } from './identity.entity.js';
import { identityNameKey } from './identity-name.js';
import type { IdentityView } from './identity.mapper.js';

const VIEW_COLUMNS = 'i.id, i.name, i.source, i.disabled, i.password_hash IS NOT NULL AS has_password, i.created_at, i.updated_at';
const ROLES_OF = (identityId: string) => `ARRAY(SELECT r.name FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = ${identityId})`;

interface IdentityRow {
  id: number;
  name: string;
  source: IdentitySource;
  disabled: boolean;
  has_password: boolean;
  created_at: Date;
  updated_at: Date;
  roles: string[];
}

function toView(row: IdentityRow): IdentityView {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    roles: row.roles,
    disabled: row.disabled,
    hasPassword: row.has_password,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** An identity as a principal carries it. */
export interface IdentityForPrincipal {
  id: number;
  name: string;
  source: IdentitySource;
  disabled: boolean;
  roles: string[];
  facts: IdentityFacts;
}

/** Database access for identities, by intent. */
@Injectable()
export class IdentityRepository {
  constructor(@InjectRepository(IdentityEntity) private readonly identities: Repository<IdentityEntity>) {}

  private repo(manager?: EntityManager): Repository<IdentityEntity> {
    return manager ? manager.getRepository(IdentityEntity) : this.identities;
  }

  getById(id: number, manager?: EntityManager): Promise<IdentityEntity | null> {
    return this.repo(manager).findOne({ where: { id }, relations: { roles: true } });
  }

  /**
   * What a session's principal needs of an identity, in one query: every cookie-authenticated request reads it
   * (an entity graph through findOne costs about a millisecond of CPU here).
   */
  async getForPrincipal(id: number): Promise<IdentityForPrincipal | null> {
    const rows = (await this.identities.query(`SELECT ${VIEW_COLUMNS}, ${ROLES_OF('i.id')} AS roles FROM identity i WHERE i.id = $1`, [id])) as IdentityRow[];
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      source: row.source,
      disabled: row.disabled,
      roles: row.roles,
      facts: { hasPassword: row.has_password, createdAt: row.created_at, updatedAt: row.updated_at },
    };
  }

  /**
   * What a sign-in needs of an identity, by its name's key, in one row: its view and password hash. Plain SQL: the
   * entity graph through findOne was about a millisecond of main-thread CPU of every sign-in.
   */
  async getForSignin(nameKey: string): Promise<(IdentityView & { passwordHash: string | null }) | null> {
    const rows = (await this.identities.query(`SELECT ${VIEW_COLUMNS}, ${ROLES_OF('i.id')} AS roles, i.password_hash FROM identity i WHERE i.name_key = $1`, [
      nameKey,
    ])) as Array<IdentityRow & { password_hash: string | null }>;
    return rows.length === 0 ? null : { ...toView(rows[0]), passwordHash: rows[0].password_hash };
  }

  /** One identity as its answer shows it: one row, its roles aggregated in SQL. */
  async getView(id: number): Promise<IdentityView | null> {
    const rows = (await this.identities.query(
      `SELECT ${VIEW_COLUMNS}, ${ROLES_OF('i.id')} AS roles FROM identity i WHERE i.id = $1`,
      [id],
    )) as IdentityRow[];
    return rows.length === 0 ? null : toView(rows[0]);
  }

  /**
   * A page of identities by id, optionally those whose name contains `search`, and how many match in all: one
   * query (the total an uncorrelated subquery counted once, the roles of the page's rows aggregated in SQL).
   */
  async list(skip: number, take: number, search?: string): Promise<[IdentityView[], number]> {
    const params: unknown[] = [take, skip];
    let where = '';
    if (search) {
      params.push(`%${search.normalize('NFKC').toLowerCase().replace(/[\\%_]/g, '\\$&')}%`);
      where = 'WHERE i.name_key LIKE $3';
    }
    const rows = (await this.identities.query(
      `SELECT p.*, ${ROLES_OF('p.id')} AS roles, (SELECT count(*)::int FROM identity i ${where}) AS total
         FROM (SELECT ${VIEW_COLUMNS}
                 FROM identity i ${where}
                ORDER BY i.id LIMIT $1 OFFSET $2) p
        ORDER BY p.id`,
      params,
    )) as Array<IdentityRow & { total: number }>;
    if (rows.length > 0) return [rows.map(toView), rows[0].total];
    if (skip === 0) return [[], 0];
    // Past the last page: the rows carried no total.
    const [{ total }] = (await this.identities.query(`SELECT count(*)::int AS total FROM identity i ${where.replace('$3', '$1')}`, params.slice(2))) as Array<{ total: number }>;
    return [[], total];
  }

  /**
   * The identity of this name (by its folded key) with its roles, created with `source`, no password and `roles`
   * when there is none; `created` says which. Concurrent calls for one new name do not fail on the unique key:
   * the later INSERT waits for the earlier transaction and, once it commits, inserts nothing and reads its row,
   * so both go on with the same identity.
   */
  async findOrCreate(
    manager: EntityManager,
    identity: { name: string; source: Extract<IdentitySource, 'service' | 'migrated'>; roles: RoleEntity[] },
  ): Promise<{ identity: IdentityEntity; created: boolean }> {
    const nameKey = identityNameKey(identity.name);
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(IdentityEntity)
      .values({ name: identity.name, nameKey, source: identity.source, passwordHash: null, disabled: false })
      .orIgnore()
      .returning(['id'])
      .execute();
    const found = await manager.findOne(IdentityEntity, { where: { nameKey }, relations: { roles: true } });
    // It existed at the insert and a concurrent deletion committed since.
    if (!found) throw new ConflictException(`identity "${identity.name}" was deleted meanwhile; retry`);
    const created = (inserted.raw as unknown[]).length > 0;
    if (created) {
      await manager.createQueryBuilder().relation(IdentityEntity, 'roles').of(found).add(identity.roles);
      found.roles = identity.roles;
    }
    return { identity: found, created };
  }

  count(manager?: EntityManager): Promise<number> {
    return this.repo(manager).count();
  }

  /** Enabled identities holding the built-in Administrator role. */
  async countEnabledAdministrators(manager: EntityManager): Promise<number> {
    const [row] = (await manager.query(
      `SELECT count(*)::int AS n FROM identity i
         JOIN identity_role ir ON ir.identity_id = i.id
         JOIN role r ON r.id = ir.role_id
        WHERE r.builtin AND r.name = $1 AND NOT i.disabled`,
      [BuiltinRole.Administrator],
    )) as Array<{ n: number }>;
    return row.n;
  }
}
