import { MigrationInterface, QueryRunner } from "typeorm";

export class AppTokenTombstones1795891552626 implements MigrationInterface {
    name = 'AppTokenTombstones1795891552626'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "app_token_tombstone" ("hash" uuid NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "removed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_29a07bd9387ab573c14dc9611e6" PRIMARY KEY ("hash"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "app_token_tombstone"`);
    }

}
