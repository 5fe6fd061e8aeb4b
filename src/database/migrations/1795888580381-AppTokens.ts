import { MigrationInterface, QueryRunner } from "typeorm";

export class AppTokens1795888580381 implements MigrationInterface {
    name = 'AppTokens1795888580381'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "app_token" ("id" SERIAL NOT NULL, "hash" uuid NOT NULL, "token_sha256" bytea NOT NULL, "token" text, "identity_id" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "description" character varying(1024) NOT NULL DEFAULT '', "last_used_at" TIMESTAMP WITH TIME ZONE, "last_used_address" character varying(64), "origin" character varying(16) NOT NULL, "created_by_identity_id" integer, "created_by_name" character varying(256), "rotated_from_id" integer, CONSTRAINT "UQ_60c1f140a4185b7a40685effa93" UNIQUE ("hash"), CONSTRAINT "PK_ad9c9510a9a95a7040810270752" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_app_token_identity" ON "app_token"  ("identity_id", "id") `);
        await queryRunner.query(`CREATE TABLE "app_token_role" ("app_token_id" integer NOT NULL, "role_id" integer NOT NULL, CONSTRAINT "PK_df1bd2bfe4200b2b9368236dadb" PRIMARY KEY ("app_token_id", "role_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_807e465d4c6d01f9aa403dcc37" ON "app_token_role"  ("app_token_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_d728d55b081c8d1b635e4b7ee4" ON "app_token_role"  ("role_id") `);
        await queryRunner.query(`ALTER TABLE "app_token" ADD CONSTRAINT "FK_0387d11187c943a20c6151e03c4" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "app_token_role" ADD CONSTRAINT "FK_807e465d4c6d01f9aa403dcc379" FOREIGN KEY ("app_token_id") REFERENCES "app_token"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
        await queryRunner.query(`ALTER TABLE "app_token_role" ADD CONSTRAINT "FK_d728d55b081c8d1b635e4b7ee40" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token_role" DROP CONSTRAINT "FK_d728d55b081c8d1b635e4b7ee40"`);
        await queryRunner.query(`ALTER TABLE "app_token_role" DROP CONSTRAINT "FK_807e465d4c6d01f9aa403dcc379"`);
        await queryRunner.query(`ALTER TABLE "app_token" DROP CONSTRAINT "FK_0387d11187c943a20c6151e03c4"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_d728d55b081c8d1b635e4b7ee4"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_807e465d4c6d01f9aa403dcc37"`);
        await queryRunner.query(`DROP TABLE "app_token_role"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_app_token_identity"`);
        await queryRunner.query(`DROP TABLE "app_token"`);
    }

}
