import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { IdentitySource } from '../auth/principal.js';
import { SqlPool, type Statement } from '../database/sql-pool.js';
import { RoleEntity } from '../role/role.entity.js';
import { AppTokenTombstoneEntity } from './app-token-tombstone.entity.js';
import { AppTokenEntity } from './app-token.entity.js';

/** A token revoked because its parent (or an ancestor) was. */
export interface RevokedDescendant {
  id: number;
  hash: string;
  parentTokenId: number;
  identity: { id: number; name: string };
}

/** An identity a token is granted to, as a grant needs it. */
export interface Grantee {
  id: number;
  name: string;
  source: IdentitySource;
  disabled: boolean;
  roles: Array<{ id: number; name: string; nameKey: string }>;
}

/** A token of a caller's chain (itself or an ancestor), as locked for a grant. */
export interface ChainLink {
  id: number;
  expiresAt: Date | null;
  revokedAt: Date | null;
  identityDisabled: boolean;
  /** Revoked or expired by the database's clock once the lock was held (a revocation that committed meanwhile counts). */
  ended: boolean;
}

/** The columns of a new token record, and its roles' ids. */
export type NewToken = { roleIds: readonly number[] } & Pick<
  AppTokenEntity,
  | 'hash'
  | 'tokenSha256'
  | 'token'
  | 'identityId'
  | 'createdAt'
  | 'expiresAt'
  | 'jwtExpiresAt'
  | 'description'
  | 'origin'
  | 'createdByIdentityId'
  | 'createdByName'
  | 'rotatedFromId'
  | 'parentTokenId'
>;

const WITH_ROLES = { roles: true, identity: { roles: true } } as const;

/** A new token and its roles in one statement; its id. */
const INSERT_TOKEN: Statement = {
  name: 'apptoken_insert_token',
  text: `WITH created AS (
           INSERT INTO app_token (hash, token_sha256, token, identity_id, created_at, expires_at, jwt_expires_at, description, origin,
                                  created_by_identity_id, created_by_name, rotated_from_id, parent_token_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           RETURNING id
         ), roles AS (
           INSERT INTO app_token_role (app_token_id, role_id) SELECT created.id, role_id FROM created, unnest($14::int[]) AS role_id
         )
         SELECT id FROM created`,
};

/** A token's chain (itself and its ancestors, at most $2), share-locked root first: see lockChain. */
const LOCK_CHAIN: Statement = {
  name: 'apptoken_lock_chain',
  // One statement: the walk up the chain, then its rows locked in ORDER BY order (locking happens above the sort).
  text: `WITH RECURSIVE up(id, depth) AS (
           SELECT $1::int, 0
           UNION ALL
           SELECT t.parent_token_id, up.depth + 1 FROM app_token t JOIN up ON t.id = up.id WHERE t.parent_token_id IS NOT NULL AND up.depth + 1 < $2
         )
         SELECT t.id, t.expires_at, t.revoked_at, i.disabled, (SELECT count(*)::int FROM up) AS links,
                coalesce(t.revoked_at <= clock_timestamp(), false) OR coalesce(t.expires_at <= clock_timestamp(), false) AS ended
           FROM app_token t JOIN up ON up.id = t.id JOIN identity i ON i.id = t.identity_id
          ORDER BY up.depth DESC
            FOR SHARE OF t`,
};

const granteeBy = (name: string, where: string): Statement => ({
  name,
  text: `SELECT i.id, i.name, i.source, i.disabled,
                coalesce((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'nameKey', r.name_key))
                            FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = i.id), '[]') AS roles
           FROM identity i WHERE ${where}`,
});
const GRANTEE_BY_ID = granteeBy('apptoken_grantee_by_id', 'i.id = $1');
const GRANTEE_BY_NAME = granteeBy('apptoken_grantee_by_name', 'i.name_key = $1');

/** Database access for app tokens (and what granting and migrating them need of identities and roles), by intent. */
@Injectable()
export class AppTokenRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: SqlPool,
  ) {}

  /** One token, its row locked for the rest of the transaction, with its roles and its identity's. */
  async lockForChange(manager: EntityManager, id: number): Promise<AppTokenEntity | null> {
    const locked = await manager
      .getRepository(AppTokenEntity)
      .createQueryBuilder('token')
      .setLock('pessimistic_write', undefined, ['token'])
      .where('token.id = :id', { id })
      .getOne();
    if (!locked) return null;
    return manager.getRepository(AppTokenEntity).findOneOrFail({ where: { id }, relations: WITH_ROLES });
  }

  /** Stores a new token and its roles in one statement; its id. */
  async insert(manager: EntityManager, token: NewToken): Promise<number> {
    const [{ id }] = await this.sql.rowsIn<{ id: number }>(
      manager,
      INSERT_TOKEN,
      [
        token.hash,
        token.tokenSha256,
        token.token,
        token.identityId,
        token.createdAt,
        token.expiresAt,
        token.jwtExpiresAt,
        token.description,
        token.origin,
        token.createdByIdentityId,
        token.createdByName,
        token.rotatedFromId,
        token.parentTokenId,
        [...new Set(token.roleIds)],
      ],
    );
    return id;
  }

  async setRevokedAt(manager: EntityManager, id: number, at: Date): Promise<void> {
    await manager.update(AppTokenEntity, { id }, { revokedAt: at });
  }

  /** Removes a token record; the table's trigger leaves its tombstone and NOTIFYs it. */
  async remove(manager: EntityManager, id: number): Promise<void> {
    await manager.delete(AppTokenEntity, { id });
  }

  /** Whether a token with this hash was removed here (and its JWT may still be valid). */
  isTombstoned(manager: EntityManager, hash: string): Promise<boolean> {
    return manager.existsBy(AppTokenTombstoneEntity, { hash });
  }

  /** Deletes tokens revoked or expired before `cutoff` (tombstoned by the trigger); how many. */
  async purgeEndedBefore(cutoff: Date): Promise<number> {
    const [{ purged }] = (await this.dataSource.query(
      `WITH gone AS (DELETE FROM app_token WHERE revoked_at < $1 OR expires_at < $1 RETURNING 1) SELECT count(*)::int AS purged FROM gone`,
      [cutoff],
    )) as Array<{ purged: number }>;
    return purged;
  }

  /**
   * Drops tombstones whose JWT has expired (migration refuses expired tokens), with a day's margin for
   * clocks that disagree between instances and the database.
   */
  async dropSpentTombstones(): Promise<void> {
    await this.dataSource.query(`DELETE FROM app_token_tombstone WHERE expires_at < now() - interval '1 day'`);
  }

  /**
   * The token a caller authenticated with and its ancestors (itself first, at most `limit` of them), each row
   * share-locked, root first (the order a revocation locks in, so the two never deadlock). A concurrent
   * revocation or removal of any of them then either commits first (and is seen here) or waits for the grant to
   * commit, and its descendant statement, which starts later, finds the new child. Null when a link has gone.
   * A chain of `limit` links may be longer still: the caller refuses it.
   */
  async lockChain(manager: EntityManager, id: number, limit: number): Promise<ChainLink[] | null> {
    const rows = await this.sql.rowsIn<{ id: number; expires_at: Date | null; revoked_at: Date | null; disabled: boolean; links: number; ended: boolean }>(manager, LOCK_CHAIN, [
      id,
      limit,
    ]);
    if (rows.length === 0 || rows.length !== rows[0].links) return null;
    return rows.reverse().map((row) => ({ id: row.id, expiresAt: row.expires_at, revokedAt: row.revoked_at, identityDisabled: row.disabled, ended: row.ended }));
  }

  /** The token a token was granted with, if any (null too when the token does not exist). */
  async parentTokenId(manager: EntityManager, id: number): Promise<number | null> {
    const [row] = (await manager.query('SELECT parent_token_id FROM app_token WHERE id = $1', [id])) as Array<{ parent_token_id: number | null }>;
    return row?.parent_token_id ?? null;
  }

  /** Whether token `ancestorId` is `tokenId`'s parent, or its parent's, up the line (at most 64 steps). */
  async isAncestor(manager: EntityManager, ancestorId: number, tokenId: number): Promise<boolean> {
    const [row] = (await manager.query(
      `WITH RECURSIVE up(id, depth) AS (
         SELECT parent_token_id, 1 FROM app_token WHERE id = $2
         UNION ALL
         SELECT t.parent_token_id, up.depth + 1 FROM app_token t JOIN up ON t.id = up.id WHERE up.depth < 64
       )
       SELECT EXISTS (SELECT 1 FROM up WHERE id = $1) AS found`,
      [ancestorId, tokenId],
    )) as Array<{ found: boolean }>;
    return row.found;
  }

  /**
   * Revokes at `at` every token granted, directly or down the line, with one of `parents` (token ids, or
   * all the tokens of an identity), unless it is already revoked by then. Returns those it revoked.
   */
  async revokeDescendants(manager: EntityManager, parents: { tokenIds: readonly number[] } | { identityId: number }, at: Date): Promise<RevokedDescendant[]> {
    const roots = 'tokenIds' in parents ? 'SELECT unnest($1::int[])' : 'SELECT id FROM app_token WHERE identity_id = $1';
    const [rows] = (await manager.query(
      `WITH RECURSIVE tree(id) AS (
         SELECT c.id FROM app_token c WHERE c.parent_token_id IN (${roots})
         UNION
         SELECT c.id FROM app_token c JOIN tree ON c.parent_token_id = tree.id
       )
       UPDATE app_token t SET revoked_at = $2
         FROM tree, identity i
        WHERE t.id = tree.id AND i.id = t.identity_id AND (t.revoked_at IS NULL OR t.revoked_at > $2)
       RETURNING t.id, t.hash, t.parent_token_id, i.id AS identity_id, i.name AS identity_name`,
      ['tokenIds' in parents ? parents.tokenIds : parents.identityId, at],
    )) as [Array<{ id: number; hash: string; parent_token_id: number; identity_id: number; identity_name: string }>, number];
    return rows.map((row) => ({ id: row.id, hash: row.hash, parentTokenId: row.parent_token_id, identity: { id: row.identity_id, name: row.identity_name } }));
  }

  /** The identity a grant names (by id or folded name), with its roles: one row. */
  async findGrantee(manager: EntityManager, ref: { id: number } | { nameKey: string }): Promise<Grantee | null> {
    const rows = await this.sql.rowsIn<Grantee & { [column: string]: unknown }>(manager, 'id' in ref ? GRANTEE_BY_ID : GRANTEE_BY_NAME, ['id' in ref ? ref.id : ref.nameKey]);
    return rows[0] ?? null;
  }

  /** Roles whose folded names are among `keys`. */
  rolesByKeys(manager: EntityManager, keys: readonly string[]): Promise<RoleEntity[]> {
    return manager.find(RoleEntity, { where: { nameKey: In([...keys]) } });
  }
}
