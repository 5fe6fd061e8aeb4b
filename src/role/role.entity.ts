import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('role')
export class RoleEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** Look-alike-folded name (see role-name.ts); unique, so `administrator` or `Ａdministrator` collide with the built-in. */
  @Column({ name: 'name_key', type: 'varchar', length: 512, unique: true })
  nameKey: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  description: string;

  @Column({ type: 'boolean', default: false })
  builtin: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
