import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { BuiltinRole } from '../role/builtin-roles.js';
import { IdentityEntity } from './identity.entity.js';

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
