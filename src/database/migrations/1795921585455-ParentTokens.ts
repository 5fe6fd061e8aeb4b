import { MigrationInterface, QueryRunner } from "typeorm";

export class ParentTokens1795921585455 implements MigrationInterface {
    name = 'ParentTokens1795921585455'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" ADD "parent_token_id" integer`);
        await queryRunner.query(`CREATE INDEX "IDX_app_token_parent" ON "app_token"  ("parent_token_id") `);
        await queryRunner.query(`ALTER TABLE "app_token" ADD CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362" FOREIGN KEY ("parent_token_id") REFERENCES "app_token"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" DROP CONSTRAINT "FK_0bb650b9be3ff0bb56aa1063362"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_app_token_parent"`);
        await queryRunner.query(`ALTER TABLE "app_token" DROP COLUMN "parent_token_id"`);
    }

}
