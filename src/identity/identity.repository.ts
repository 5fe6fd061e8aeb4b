import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import type { IdentityFacts, IdentitySource } from '../auth/principal.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { IdentityEntity } from './identity.entity.js';

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
    const rows = (await this.identities.query(
      `SELECT i.id, i.name, i.source, i.disabled, i.password_hash IS NOT NULL AS has_password, i.created_at, i.updated_at,
              coalesce(array_agg(r.name::text) FILTER (WHERE r.id IS NOT NULL), '{}') AS roles
         FROM identity i
         LEFT JOIN identity_role ir ON ir.identity_id = i.id
         LEFT JOIN role r ON r.id = ir.role_id
        WHERE i.id = $1
        GROUP BY i.id`,
      [id],
    )) as Array<{ id: number; name: string; source: IdentitySource; disabled: boolean; has_password: boolean; created_at: Date; updated_at: Date; roles: string[] }>;
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

  getByNameKey(nameKey: string, manager?: EntityManager): Promise<IdentityEntity | null> {
    return this.repo(manager).findOne({ where: { nameKey }, relations: { roles: true } });
  }

  /** A page of identities by id, optionally those whose name contains `search`. */
  async list(skip: number, take: number, search?: string): Promise<[IdentityEntity[], number]> {
    const query = this.identities.createQueryBuilder('identity').orderBy('identity.id', 'ASC').skip(skip).take(take);
    if (search) {
      query.where('identity.name_key LIKE :pattern', { pattern: `%${search.normalize('NFKC').toLowerCase().replace(/[\\%_]/g, '\\$&')}%` });
    }
    const [page, total] = await query.getManyAndCount();
    // Roles loaded in a second query: joining them into a paged query would page over role rows.
    if (page.length > 0) {
      const withRoles = await this.identities.find({ where: page.map(({ id }) => ({ id })), relations: { roles: true } });
      const byId = new Map(withRoles.map((identity) => [identity.id, identity]));
      return [page.map((identity) => byId.get(identity.id) ?? identity), total];
    }
    return [page, total];
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
