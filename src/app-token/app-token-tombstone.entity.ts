import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The hash of a token deleted or purged here. Migration refuses these, so re-running a bulk migration
 * cannot bring back a token that was deleted (say, after it leaked). Kept until the token would have
 * expired anyway (migration refuses expired tokens); forever for tokens that never expire.
 */
@Entity('app_token_tombstone')
export class AppTokenTombstoneEntity {
  @PrimaryColumn({ type: 'uuid' })
  hash: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @CreateDateColumn({ name: 'removed_at', type: 'timestamptz' })
  removedAt: Date;
}
