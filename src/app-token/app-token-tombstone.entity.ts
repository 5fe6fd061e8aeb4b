import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The hash of a token whose record was removed here, by whatever path (DELETE, purge, an identity's
 * delete cascading): a trigger on app_token writes it. Migration refuses these, so re-running a bulk
 * migration cannot bring back a token that was deleted (say, after it leaked). Kept until the JWT's own
 * `exp` has passed (migration refuses expired tokens), whatever shorter expiry its record had; forever
 * for tokens that never expire.
 */
@Entity('app_token_tombstone')
export class AppTokenTombstoneEntity {
  @PrimaryColumn({ type: 'uuid' })
  hash: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  /** The removed record's id, identity and dates, for `apptoken.revoked_used` (null for tombstones older than them). */
  @Column({ name: 'token_id', type: 'int', nullable: true })
  tokenId: number | null;

  @Column({ name: 'identity_id', type: 'int', nullable: true })
  identityId: number | null;

  @Column({ name: 'token_created_at', type: 'timestamptz', nullable: true })
  tokenCreatedAt: Date | null;

  @Column({ name: 'token_expires_at', type: 'timestamptz', nullable: true })
  tokenExpiresAt: Date | null;

  @Column({ name: 'token_revoked_at', type: 'timestamptz', nullable: true })
  tokenRevokedAt: Date | null;

  @Column({ name: 'revoked_used_notified_at', type: 'timestamptz', nullable: true })
  revokedUsedNotifiedAt: Date | null;

  @CreateDateColumn({ name: 'removed_at', type: 'timestamptz' })
  removedAt: Date;
}
