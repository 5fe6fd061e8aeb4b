import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One failed sign-in, kept only for the throttle window. The user name is stored as a SHA-256 of its
 * folded form: a mistyped password in the user-name field does not end up readable in the database.
 */
@Entity('signin_failure')
@Index('IDX_signin_failure_user', ['usernameKey', 'at'])
@Index('IDX_signin_failure_address', ['address', 'at'])
export class SigninFailureEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'username_key', type: 'bytea' })
  usernameKey: Buffer;

  @Column({ type: 'varchar', length: 64 })
  address: string;
}
