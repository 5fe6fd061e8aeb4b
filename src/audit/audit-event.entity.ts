import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An audit record. Identities and tokens are referenced by id and name without foreign keys,
 * so the trail outlives what it describes. Never holds a token value or a password.
 */
@Entity('audit_event')
@Index('IDX_audit_event_at', ['at'])
@Index('IDX_audit_event_target_identity', ['targetIdentityId', 'at'])
@Index('IDX_audit_event_target_token', ['targetTokenId', 'at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'actor_identity_id', type: 'int', nullable: true })
  actorIdentityId: number | null;

  @Column({ name: 'actor_name', type: 'varchar', length: 256, nullable: true })
  actorName: string | null;

  @Column({ name: 'target_identity_id', type: 'int', nullable: true })
  targetIdentityId: number | null;

  @Column({ name: 'target_identity_name', type: 'varchar', length: 256, nullable: true })
  targetIdentityName: string | null;

  @Column({ name: 'target_token_id', type: 'int', nullable: true })
  targetTokenId: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  address: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail: Record<string, unknown> | null;
}
