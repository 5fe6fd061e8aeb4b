import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A token revoked because its parent (or an ancestor) was. */
export interface RevokedDescendant {
  id: number;
  hash: string;
  parentTokenId: number;
  identity: { id: number; name: string };
}

/** Database access for app tokens, by intent. */
@Injectable()
export class AppTokenRepository {
  /**
   * How long the token a caller authenticated with still lives, read under a share lock: a concurrent
   * revocation of it waits for the grant to commit, and then finds (and revokes) the new child.
   */
  async lockParent(manager: EntityManager, id: number): Promise<{ expiresAt: Date | null; revokedAt: Date | null } | null> {
    const [row] = (await manager.query('SELECT expires_at, revoked_at FROM app_token WHERE id = $1 FOR SHARE', [id])) as Array<{
      expires_at: Date | null;
      revoked_at: Date | null;
    }>;
    return row ? { expiresAt: row.expires_at, revokedAt: row.revoked_at } : null;
  }

  /**
   * Revokes at `at` every token granted, directly or down the line, with one of `parents` (token ids, or
   * all the tokens of an identity), unless it is already revoked by then. Returns those it revoked.
   */
  async revokeDescendants(manager: EntityManager, parents: { tokenIds: readonly number[] } | { identityId: number }, at: Date): Promise<RevokedDescendant[]> {
    const roots = 'tokenIds' in parents ? 'SELECT unnest($1::int[])' : 'SELECT id FROM app_token WHERE identity_id = $1';
    const rows = (await manager.query(
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
    return rows[0].map((row) => ({ id: row.id, hash: row.hash, parentTokenId: row.parent_token_id, identity: { id: row.identity_id, name: row.identity_name } }));
  }
}
