import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Generated from the entity: a child token without its parent is never valid, so removing a token (DELETE,
 * purge, the cascade of an identity delete) removes its subtree instead of orphaning it into a working root
 * token. The table's row trigger tombstones and announces each cascaded row.
 */
export class ParentTokensCascade1795925829994 implements MigrationInterface {
    name = 'ParentTokensCascade1795925829994'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" DROP CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362"`);
        await queryRunner.query(`ALTER TABLE "app_token" ADD CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362" FOREIGN KEY ("parent_token_id") REFERENCES "app_token"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" DROP CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362"`);
        await queryRunner.query(`ALTER TABLE "app_token" ADD CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362" FOREIGN KEY ("parent_token_id") REFERENCES "app_token"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    }

}
