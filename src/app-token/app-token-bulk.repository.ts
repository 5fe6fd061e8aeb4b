import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** What a bulk revoke or delete selects (every given condition holds). */
export interface BulkSelection {
  /** Only this identity's tokens: a caller who is not an Administrator. */
  ownerId?: number;
  ids?: readonly number[];
  identityId?: number;
  roleId?: number;
  expiredOnly?: boolean;
  revokedOnly?: boolean;
  unusedForDays?: number;
  /** Leaves out tokens revoked by `at` (a bulk revoke has nothing to do for them; one in a rotation's grace period is still taken). */
  notRevoked?: boolean;
}

/** A token a bulk change touches, as its policy check, audit and webhook events need it (never its value). */
export interface BulkToken {
  id: number;
  hash: string;
  parentTokenId: number | null;
  identity: { id: number; name: string };
  roles: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  description: string;
}

interface BulkTokenRow {
  id: number;
  hash: string;
  parent_token_id: number | null;
  identity_id: number;
  identity_name: string;
  roles: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  description: string;
}

/** The columns of a BulkToken, for a query where `t` is the token. */
const COLUMNS = `t.id, t.hash, t.parent_token_id, t.created_at, t.expires_at, t.revoked_at, t.description,
       i.id AS identity_id, i.name AS identity_name,
       ARRAY(SELECT r.name FROM app_token_role tr JOIN role r ON r.id = tr.role_id WHERE tr.app_token_id = t.id ORDER BY r.name) AS roles`;

/** Tokens granted with one of $1 (token ids), and theirs, down the line: the tree `tree(id)`, roots excluded. */
const DESCENDANTS = `WITH RECURSIVE tree(id) AS (
         SELECT c.id FROM app_token c WHERE c.parent_token_id = ANY ($1::int[])
         UNION
         SELECT c.id FROM app_token c JOIN tree ON c.parent_token_id = tree.id
       )`;

function toToken(row: BulkTokenRow): BulkToken {
  return {
    id: row.id,
    hash: row.hash,
    parentTokenId: row.parent_token_id,
    identity: { id: row.identity_id, name: row.identity_name },
    roles: row.roles,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    description: row.description,
  };
}

/** The WHERE conditions of a selection over token `t`, its parameters appended to `params`; `at` is the moment "revoked", "expired" and "unused" are judged at. */
function conditions(selection: BulkSelection, at: Date, params: unknown[]): string {
  const param = (value: unknown) => `$${params.push(value)}`;
  const where: string[] = [];
  if (selection.ownerId !== undefined) where.push(`t.identity_id = ${param(selection.ownerId)}`);
  if (selection.ids !== undefined) where.push(`t.id = ANY (${param(selection.ids)}::int[])`);
  if (selection.identityId !== undefined) where.push(`t.identity_id = ${param(selection.identityId)}`);
  if (selection.roleId !== undefined) where.push(`EXISTS (SELECT 1 FROM app_token_role tr WHERE tr.app_token_id = t.id AND tr.role_id = ${param(selection.roleId)})`);
  const now = selection.expiredOnly || selection.revokedOnly || selection.unusedForDays !== undefined || selection.notRevoked ? param(at) : '';
  if (selection.expiredOnly) where.push(`t.expires_at <= ${now}::timestamptz`);
  if (selection.revokedOnly) where.push(`t.revoked_at <= ${now}::timestamptz`);
  if (selection.notRevoked) where.push(`(t.revoked_at IS NULL OR t.revoked_at > ${now}::timestamptz)`);
  if (selection.unusedForDays !== undefined) {
    where.push(`coalesce(t.last_used_at, t.created_at) < ${now}::timestamptz - make_interval(days => ${param(selection.unusedForDays)}::int)`);
  }
  return where.length === 0 ? 'true' : where.join(' AND ');
}

/** Database access for bulk revocation and deletion of app tokens, by intent. */
@Injectable()
export class AppTokenBulkRepository {
  /** The ids of up to `limit` tokens a selection matches now, ascending (no locks: a dry run, or the size check before locking). */
  async matchingIds(manager: EntityManager, selection: BulkSelection, at: Date, limit: number): Promise<number[]> {
    const params: unknown[] = [];
    const where = conditions(selection, at, params);
    const rows = (await manager.query(`SELECT t.id FROM app_token t WHERE ${where} ORDER BY t.id LIMIT ${limit}`, params)) as Array<{ id: number }>;
    return rows.map((row) => row.id);
  }

  /** How many tokens a selection matches now. */
  async countMatching(manager: EntityManager, selection: BulkSelection, at: Date): Promise<number> {
    const params: unknown[] = [];
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM app_token t WHERE ${conditions(selection, at, params)}`, params)) as Array<{ n: number }>;
    return n;
  }

  /**
   * Locks for update, in ascending id order, the tokens a selection matches and every token granted with
   * them (down the line), so that revoking them and their descendants waits for nothing more. Ascending ids
   * is the order every other change locks tokens in (a chain root first, a parent before its children, which
   * are always newer), so a bulk change and a concurrent rotation, grant or single revoke queue instead of
   * deadlocking.
   */
  async lockWithDescendants(manager: EntityManager, selection: BulkSelection, at: Date): Promise<number[]> {
    const params: unknown[] = [];
    const where = conditions(selection, at, params);
    const rows = (await manager.query(
      `WITH RECURSIVE tree(id) AS (
         SELECT t.id FROM app_token t WHERE ${where}
         UNION
         SELECT c.id FROM app_token c JOIN tree ON c.parent_token_id = tree.id
       )
       SELECT t.id FROM app_token t WHERE t.id IN (SELECT id FROM tree) ORDER BY t.id FOR UPDATE OF t`,
      params,
    )) as Array<{ id: number }>;
    return rows.map((row) => row.id);
  }

  /** The tokens a selection matches, ascending, with what a bulk change needs of them; `within`: only among these ids (those locked). */
  async matching(manager: EntityManager, selection: BulkSelection, at: Date, within?: readonly number[]): Promise<BulkToken[]> {
    const params: unknown[] = [];
    let where = conditions(selection, at, params);
    if (within !== undefined) where += ` AND t.id = ANY ($${params.push(within)}::int[])`;
    const rows = (await manager.query(`SELECT ${COLUMNS} FROM app_token t JOIN identity i ON i.id = t.identity_id WHERE ${where} ORDER BY t.id`, params)) as BulkTokenRow[];
    return rows.map(toToken);
  }

  /** Tokens granted with one of `parents` (down the line, `parents` themselves excluded); `notRevokedAt`: only those not revoked by then. */
  async descendants(manager: EntityManager, parents: readonly number[], notRevokedAt?: Date): Promise<BulkToken[]> {
    if (parents.length === 0) return [];
    const params: unknown[] = [parents];
    const live = notRevokedAt === undefined ? '' : ` AND (t.revoked_at IS NULL OR t.revoked_at > $${params.push(notRevokedAt)})`;
    const rows = (await manager.query(
      `${DESCENDANTS}
       SELECT ${COLUMNS} FROM app_token t JOIN tree ON tree.id = t.id JOIN identity i ON i.id = t.identity_id
        WHERE t.id <> ALL ($1::int[])${live}
        ORDER BY t.id`,
      params,
    )) as BulkTokenRow[];
    return rows.map(toToken);
  }

  /** Revokes at `at` the tokens `ids` unless already revoked by then (a revocation date keeps its first value); those it revoked. */
  async revoke(manager: EntityManager, ids: readonly number[], at: Date): Promise<number[]> {
    if (ids.length === 0) return [];
    const [rows] = (await manager.query(
      `UPDATE app_token SET revoked_at = $2 WHERE id = ANY ($1::int[]) AND (revoked_at IS NULL OR revoked_at > $2) RETURNING id`,
      [ids, at],
    )) as [Array<{ id: number }>, number];
    return rows.map((row) => row.id).sort((a, b) => a - b);
  }

  /** Removes the tokens `ids` (and, by the foreign key's cascade, their descendants); the table's trigger tombstones and announces each. */
  async remove(manager: EntityManager, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [, removed] = (await manager.query(`DELETE FROM app_token WHERE id = ANY ($1::int[])`, [ids])) as [unknown, number];
    return removed;
  }
}
