import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { IdentitySource } from '../auth/principal.js';
import { subscribes } from '../database/outbox.js';
import { SqlPool, type Statement } from '../database/sql-pool.js';
import { RoleEntity } from '../role/role.entity.js';
import { sortRoleNames } from '../role/sort-role-names.js';
import type { TokenEventSubject } from '../webhook/webhook-events.js';
import { AppTokenTombstoneEntity } from './app-token-tombstone.entity.js';
import { AppTokenEntity } from './app-token.entity.js';

/** A token revoked because its parent (or an ancestor) was: what its audit record and its webhook event name. */
export interface RevokedDescendant extends TokenEventSubject {
  hash: string;
  parentTokenId: number;
}

/** A token removed with its tree: its event's subject, and its hash for the caches. */
export interface RemovedToken extends TokenEventSubject {
  hash: string;
}

/** Which token trees {@link AppTokenRepository.removeTrees} removes. */
export type TreeRoots = { tokenIds: readonly number[] } | { identityId: number } | { endedBefore: Date };

/** The columns a token event's subject is read from, for a statement over `app_token t` joined to `identity i`. */
const SUBJECT_COLUMNS = `t.id, t.identity_id, i.name AS identity_name, t.created_at, t.expires_at, t.revoked_at, t.description,
         ARRAY(SELECT r.name FROM app_token_role tr JOIN role r ON r.id = tr.role_id WHERE tr.app_token_id = t.id) AS roles`;

interface SubjectRow {
  id: number;
  identity_id: number;
  identity_name: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  description: string;
  roles: string[];
}

function subjectOf(row: SubjectRow): TokenEventSubject {
  return {
    id: row.id,
    identity: { id: row.identity_id, name: row.identity_name },
    roles: sortRoleNames(row.roles),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    description: row.description,
  };
}

/**
 * Deletes token trees in one statement: the roots and everything granted with them down the line (which the
 * parent key's cascade would remove anyway), returning each removed token for its webhook event. The table's
 * trigger tombstones and announces every row.
 */
const removeTreesStatement = (name: string, roots: string): Statement => ({
  name,
  text: `WITH RECURSIVE tree(id) AS (
           ${roots}
           UNION
           SELECT c.id FROM app_token c JOIN tree ON c.parent_token_id = tree.id
         )
         DELETE FROM app_token t USING tree, identity i
          WHERE t.id = tree.id AND i.id = t.identity_id
         RETURNING ${SUBJECT_COLUMNS}, t.hash`,
});
const REMOVE_TREES_OF_TOKENS = removeTreesStatement('apptoken_remove_trees_of_tokens', 'SELECT unnest($1::int[])');
const REMOVE_TREES_OF_IDENTITY = removeTreesStatement('apptoken_remove_trees_of_identity', 'SELECT id FROM app_token WHERE identity_id = $1');
const REMOVE_TREES_ENDED_BEFORE = removeTreesStatement('apptoken_remove_trees_ended_before', 'SELECT id FROM app_token WHERE revoked_at < $1 OR expires_at < $1');

/** Whether an enabled webhook subscribes to event $n: the claims below write nothing when none listens. */
const someoneListens = (eventType: string) => `EXISTS (SELECT 1 FROM webhook w WHERE ${subscribes('w', eventType)})`;

/**
 * `apptoken.expiring`: claims (marks as announced) at most $2 tokens that expire within $1 days, are not revoked
 * before then and were not announced yet, skipping rows another instance holds, so two instances never
 * announce one token. Only while a webhook subscribes: a webhook created later still hears of them.
 */
const CLAIM_EXPIRING: Statement = {
  name: 'apptoken_claim_expiring',
  text: `WITH due AS (
           SELECT t.id FROM app_token t
            WHERE t.expiring_notified_at IS NULL AND t.expires_at IS NOT NULL
              AND t.expires_at > now() AND t.expires_at <= now() + make_interval(days => $1)
              AND (t.revoked_at IS NULL OR t.revoked_at >= t.expires_at)
              AND ${someoneListens("'apptoken.expiring'")}
            ORDER BY t.expires_at
            LIMIT $2
              FOR UPDATE OF t SKIP LOCKED
         )
         UPDATE app_token t SET expiring_notified_at = now()
           FROM due, identity i
          WHERE t.id = due.id AND i.id = t.identity_id
         RETURNING ${SUBJECT_COLUMNS}`,
};

/** `apptoken.revoked_used` of a revoked record: claimed when not announced in the last minute (by any instance). */
const CLAIM_REVOKED_USE: Statement = {
  name: 'apptoken_claim_revoked_use',
  text: `UPDATE app_token t SET revoked_used_notified_at = now()
           FROM identity i
          WHERE t.hash = $1 AND i.id = t.identity_id AND t.revoked_at <= now()
            AND (t.revoked_used_notified_at IS NULL OR t.revoked_used_notified_at <= now() - interval '1 minute')
            AND ${someoneListens("'apptoken.revoked_used'")}
         RETURNING ${SUBJECT_COLUMNS}`,
};

/** The same for a deleted token, on its tombstone. */
const CLAIM_DELETED_USE: Statement = {
  name: 'apptoken_claim_deleted_use',
  text: `UPDATE app_token_tombstone s SET revoked_used_notified_at = now()
          WHERE s.hash = $1 AND s.token_id IS NOT NULL
            AND (s.revoked_used_notified_at IS NULL OR s.revoked_used_notified_at <= now() - interval '1 minute')
            AND ${someoneListens("'apptoken.revoked_used'")}
         RETURNING s.token_id, s.identity_id, s.token_created_at, s.token_expires_at, s.token_revoked_at, s.removed_at`,
};

/** A deleted token as its tombstone keeps it. */
export interface DeletedToken {
  id: number;
  identityId: number;
  createdAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  deletedAt: Date;
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

  /** Whether a token with this hash was removed here (and its JWT may still be valid). */
  isTombstoned(manager: EntityManager, hash: string): Promise<boolean> {
    return manager.existsBy(AppTokenTombstoneEntity, { hash });
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
       RETURNING ${SUBJECT_COLUMNS}, t.hash, t.parent_token_id`,
      ['tokenIds' in parents ? parents.tokenIds : parents.identityId, at],
    )) as [Array<SubjectRow & { hash: string; parent_token_id: number }>, number];
    return rows.map((row) => ({ ...subjectOf(row), hash: row.hash, parentTokenId: row.parent_token_id }));
  }

  /** Deletes the tokens of `roots` and their descendants (see {@link removeTreesStatement}); the removed tokens. */
  async removeTrees(manager: EntityManager, roots: TreeRoots): Promise<RemovedToken[]> {
    const [statement, value] =
      'tokenIds' in roots ? [REMOVE_TREES_OF_TOKENS, roots.tokenIds] : 'identityId' in roots ? [REMOVE_TREES_OF_IDENTITY, roots.identityId] : [REMOVE_TREES_ENDED_BEFORE, roots.endedBefore];
    return (await this.sql.rowsIn<SubjectRow & { hash: string }>(manager, statement, [value])).map((row) => ({ ...subjectOf(row), hash: row.hash }));
  }

  /** Tokens to announce as expiring within `days` (see CLAIM_EXPIRING), marked as announced; at most `limit`. */
  async claimExpiring(manager: EntityManager, days: number, limit: number): Promise<TokenEventSubject[]> {
    return (await this.sql.rowsIn<SubjectRow>(manager, CLAIM_EXPIRING, [days, limit])).map(subjectOf);
  }

  /**
   * The revoked token with this hash, marked as announced, unless it was announced in the last minute (or is
   * not revoked, or no webhook listens): null then.
   */
  async claimRevokedUse(manager: EntityManager, hash: string): Promise<TokenEventSubject | null> {
    const [row] = await this.sql.rowsIn<SubjectRow>(manager, CLAIM_REVOKED_USE, [hash]);
    return row === undefined ? null : subjectOf(row);
  }

  /** The same for a deleted token, from its tombstone; null too when the hash was never a token here. */
  async claimDeletedUse(manager: EntityManager, hash: string): Promise<DeletedToken | null> {
    const [row] = await this.sql.rowsIn<{
      token_id: number;
      identity_id: number;
      token_created_at: Date | null;
      token_expires_at: Date | null;
      token_revoked_at: Date | null;
      removed_at: Date;
    }>(manager, CLAIM_DELETED_USE, [hash]);
    if (row === undefined) return null;
    return { id: row.token_id, identityId: row.identity_id, createdAt: row.token_created_at, expiresAt: row.token_expires_at, revokedAt: row.token_revoked_at, deletedAt: row.removed_at };
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
