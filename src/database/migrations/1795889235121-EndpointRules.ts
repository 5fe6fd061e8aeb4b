import { MigrationInterface, QueryRunner } from "typeorm";

export class EndpointRules1795889235121 implements MigrationInterface {
    name = 'EndpointRules1795889235121'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "endpoint_rule" ("id" SERIAL NOT NULL, "url" character varying(1024) NOT NULL, "methods" text array NOT NULL DEFAULT '{}', "authentication" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_fe0d5207aaa2625ff0d268d338e" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "endpoint_rule_role" ("endpoint_rule_id" integer NOT NULL, "role_id" integer NOT NULL, CONSTRAINT "PK_eb0bb151d420ea66ede8daaea83" PRIMARY KEY ("endpoint_rule_id", "role_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_14676d8da92ba6b032eda204e9" ON "endpoint_rule_role"  ("endpoint_rule_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_71bb93895fa88ac56469269e3a" ON "endpoint_rule_role"  ("role_id") `);
        await queryRunner.query(`ALTER TABLE "endpoint_rule_role" ADD CONSTRAINT "FK_14676d8da92ba6b032eda204e9e" FOREIGN KEY ("endpoint_rule_id") REFERENCES "endpoint_rule"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
        await queryRunner.query(`ALTER TABLE "endpoint_rule_role" ADD CONSTRAINT "FK_71bb93895fa88ac56469269e3a2" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "endpoint_rule_role" DROP CONSTRAINT "FK_71bb93895fa88ac56469269e3a2"`);
        await queryRunner.query(`ALTER TABLE "endpoint_rule_role" DROP CONSTRAINT "FK_14676d8da92ba6b032eda204e9e"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_71bb93895fa88ac56469269e3a"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_14676d8da92ba6b032eda204e9"`);
        await queryRunner.query(`DROP TABLE "endpoint_rule_role"`);
        await queryRunner.query(`DROP TABLE "endpoint_rule"`);
    }

}
