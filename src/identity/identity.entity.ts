import { Column, CreateDateColumn, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { RoleEntity } from '../role/role.entity.js';
import type { IdentitySource } from '../auth/principal.js';

@Entity('identity')
export class IdentityEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 256 })
  name: string;

  /** NFKC-normalised, lower-cased name: names are unique case-insensitively. */
  @Column({ name: 'name_key', type: 'varchar', length: 256, unique: true })
  nameKey: string;

  @Column({ type: 'varchar', length: 16 })
  source: IdentitySource;

  /** argon2id PHC string; null for service and migrated identities. Never leaves the service layer. */
  @Column({ name: 'password_hash', type: 'varchar', length: 256, nullable: true })
  passwordHash: string | null;

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @ManyToMany(() => RoleEntity)
  @JoinTable({
    name: 'identity_role',
    joinColumn: { name: 'identity_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'role_id', referencedColumnName: 'id' },
  })
  roles: RoleEntity[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
