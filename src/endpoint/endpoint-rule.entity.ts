import { Column, CreateDateColumn, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { RoleEntity } from '../role/role.entity.js';

/** A custom API endpoint rule, as PSU's New-PSUEndpoint: URL pattern, methods, authentication, roles. */
@Entity('endpoint_rule')
export class EndpointRuleEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 1024 })
  url: string;

  /** Upper-case methods; empty: any method. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  methods: string[];

  @Column({ type: 'boolean', default: true })
  authentication: boolean;

  @ManyToMany(() => RoleEntity)
  @JoinTable({
    name: 'endpoint_rule_role',
    joinColumn: { name: 'endpoint_rule_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'role_id', referencedColumnName: 'id' },
  })
  roles: RoleEntity[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
