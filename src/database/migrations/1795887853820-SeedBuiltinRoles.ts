import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The built-in roles, with their folded names (role-name.spec.ts checks these keys). */
export class SeedBuiltinRoles1795887853820 implements MigrationInterface {
  name = 'SeedBuiltinRoles1795887853820';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `INSERT INTO "role" ("name", "name_key", "description", "builtin") VALUES
        ('Administrator', 'administrator', 'Full access to the management API', true),
        ('Operator', 'operator', 'Grants and manages its own tokens', true),
        ('Reader', 'reader', 'Reads; grants itself tokens with its own roles', true)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "role" WHERE "builtin"`);
  }
}
