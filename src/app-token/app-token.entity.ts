import { Column, Entity, Index, JoinColumn, JoinTable, ManyToMany, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { IdentityEntity } from '../identity/identity.entity.js';
import { RoleEntity } from '../role/role.entity.js';

export type AppTokenOrigin = 'granted' | 'migrated' | 'rotated';

/**
 * An app token's record. The token is a JWT whose `hash` claim is this row's `hash`; only the SHA-256
 * of the token is kept (and the token itself only when enhanced security is off).
 */
@Entity('app_token')
@Index('IDX_app_token_identity', ['identityId', 'id'])
@Index('IDX_app_token_parent', ['parentTokenId'])
// The expiry filters and the purge (migration TokenExpiryIndex).
@Index('IDX_app_token_expires', ['expiresAt'])
// (created_at DESC NULLS LAST, id DESC), the list's default order: made by migration TokenListOrder, which can say DESC.
@Index('IDX_app_token_created', { synchronize: false })
// (expires_at) WHERE expiring_notified_at IS NULL AND expires_at IS NOT NULL: the expiring scan's, made by migration WebhookEventSources.
@Index('IDX_app_token_expiring', { synchronize: false })
export class AppTokenEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** The token's `hash` claim: its key in the database. */
  @Column({ type: 'uuid', unique: true })
  hash: string;

  /** SHA-256 of the whole token, compared in constant time on every use. */
  @Column({ name: 'token_sha256', type: 'bytea' })
  tokenSha256: Buffer;

  /** The token in clear: only with ENHANCED_APP_TOKEN_SECURITY=false. */
  @Column({ type: 'text', nullable: true })
  token: string | null;

  @Column({ name: 'identity_id', type: 'int' })
  identityId: number;

  @ManyToOne(() => IdentityEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'identity_id' })
  identity: Relation<IdentityEntity>;

  @ManyToMany(() => RoleEntity)
  @JoinTable({
    name: 'app_token_role',
    joinColumn: { name: 'app_token_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'role_id', referencedColumnName: 'id' },
  })
  roles: RoleEntity[];

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Null: never expires. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  /**
   * The JWT's own `exp` (null: it has none). A migration may store an earlier `expiresAt`; the token's
   * tombstone must outlive this, or the JWT could be migrated back while it is still valid.
   */
  @Column({ name: 'jwt_expires_at', type: 'timestamptz', nullable: true })
  jwtExpiresAt: Date | null;

  /** When it is (or, after a rotation's grace period, will be) revoked. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'varchar', length: 1024, default: '' })
  description: string;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'last_used_address', type: 'varchar', length: 64, nullable: true })
  lastUsedAddress: string | null;

  /** When `apptoken.expiring` was emitted for it (once per token; cleared by a trigger if its expiry moves). */
  @Column({ name: 'expiring_notified_at', type: 'timestamptz', nullable: true })
  expiringNotifiedAt: Date | null;

  /** When `apptoken.revoked_used` was last emitted for it: at most once a minute, across instances. */
  @Column({ name: 'revoked_used_notified_at', type: 'timestamptz', nullable: true })
  revokedUsedNotifiedAt: Date | null;

  @Column({ type: 'varchar', length: 16 })
  origin: AppTokenOrigin;

  @Column({ name: 'created_by_identity_id', type: 'int', nullable: true })
  createdByIdentityId: number | null;

  @Column({ name: 'created_by_name', type: 'varchar', length: 256, nullable: true })
  createdByName: string | null;

  /** For a rotated token, the token it replaced. */
  @Column({ name: 'rotated_from_id', type: 'int', nullable: true })
  rotatedFromId: number | null;

  /**
   * For a token granted by a caller authenticated with an app token, that token (rotation keeps it): the
   * child never outlives it, holds none of the roles it lacks, and is revoked with it.
   */
  @Column({ name: 'parent_token_id', type: 'int', nullable: true })
  parentTokenId: number | null;

  // A child without its parent is never valid: removing a token (delete, purge, identity cascade) removes its
  // subtree, each row tombstoned and announced by the table's trigger, instead of orphaning it into a root token.
  @ManyToOne(() => AppTokenEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'parent_token_id' })
  parent?: Relation<AppTokenEntity>;
}
