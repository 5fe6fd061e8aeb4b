import { MigrationInterface, QueryRunner } from "typeorm";

export class Foundation1795887853819 implements MigrationInterface {
    name = 'Foundation1795887853819'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "audit_event" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "action" character varying(64) NOT NULL, "actor_identity_id" integer, "actor_name" character varying(256), "target_identity_id" integer, "target_identity_name" character varying(256), "target_token_id" integer, "address" character varying(64), "detail" jsonb, CONSTRAINT "PK_481efbe8b0a403efe3f47a6528f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_audit_event_target_token" ON "audit_event"  ("target_token_id", "at") `);
        await queryRunner.query(`CREATE INDEX "IDX_audit_event_target_identity" ON "audit_event"  ("target_identity_id", "at") `);
        await queryRunner.query(`CREATE INDEX "IDX_audit_event_at" ON "audit_event"  ("at") `);
        await queryRunner.query(`CREATE TABLE "role" ("id" SERIAL NOT NULL, "name" character varying(64) NOT NULL, "name_key" character varying(64) NOT NULL, "description" character varying(1024) NOT NULL DEFAULT '', "builtin" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_3aadc000679f4a5b8a0e3d3cb2c" UNIQUE ("name_key"), CONSTRAINT "PK_b36bcfe02fc8de3c57a8b2391c2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "identity" ("id" SERIAL NOT NULL, "name" character varying(256) NOT NULL, "name_key" character varying(256) NOT NULL, "source" character varying(16) NOT NULL, "password_hash" character varying(256), "disabled" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_b9d78b0468bf684e561d0b6cc63" UNIQUE ("name_key"), CONSTRAINT "PK_ff16a44186b286d5e626178f726" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "session" ("id" uuid NOT NULL, "secret_hash" bytea NOT NULL, "identity_id" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "address" character varying(64), "user_agent" character varying(256), CONSTRAINT "UQ_342dc5d336f9061db9a75a6e09a" UNIQUE ("secret_hash"), CONSTRAINT "PK_f55da76ac1c3ac420f444d2ff11" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_session_identity" ON "session"  ("identity_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_session_expires" ON "session"  ("expires_at") `);
        await queryRunner.query(`CREATE TABLE "signin_failure" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "username_key" bytea NOT NULL, "address" character varying(64) NOT NULL, CONSTRAINT "PK_72534a302c8f866c55a5d081a6a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_signin_failure_address" ON "signin_failure"  ("address", "at") `);
        await queryRunner.query(`CREATE INDEX "IDX_signin_failure_user" ON "signin_failure"  ("username_key", "at") `);
        await queryRunner.query(`CREATE TABLE "identity_role" ("identity_id" integer NOT NULL, "role_id" integer NOT NULL, CONSTRAINT "PK_04414334439d4a540dcd0d2230d" PRIMARY KEY ("identity_id", "role_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_6c6cf8a43b924079e9060a14bf" ON "identity_role"  ("identity_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_a3a1601c848605b5eafa994722" ON "identity_role"  ("role_id") `);
        await queryRunner.query(`ALTER TABLE "session" ADD CONSTRAINT "FK_7abe7c83f534bb5fa32bcafe043" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "identity_role" ADD CONSTRAINT "FK_6c6cf8a43b924079e9060a14bf9" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
        await queryRunner.query(`ALTER TABLE "identity_role" ADD CONSTRAINT "FK_a3a1601c848605b5eafa9947228" FOREIGN KEY ("role_id") REFERENCES "role"("id") ON DELETE CASCADE ON UPDATE CASCADE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "identity_role" DROP CONSTRAINT "FK_a3a1601c848605b5eafa9947228"`);
        await queryRunner.query(`ALTER TABLE "identity_role" DROP CONSTRAINT "FK_6c6cf8a43b924079e9060a14bf9"`);
        await queryRunner.query(`ALTER TABLE "session" DROP CONSTRAINT "FK_7abe7c83f534bb5fa32bcafe043"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_a3a1601c848605b5eafa994722"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_6c6cf8a43b924079e9060a14bf"`);
        await queryRunner.query(`DROP TABLE "identity_role"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_signin_failure_user"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_signin_failure_address"`);
        await queryRunner.query(`DROP TABLE "signin_failure"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_session_expires"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_session_identity"`);
        await queryRunner.query(`DROP TABLE "session"`);
        await queryRunner.query(`DROP TABLE "identity"`);
        await queryRunner.query(`DROP TABLE "role"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_audit_event_at"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_audit_event_target_identity"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_audit_event_target_token"`);
        await queryRunner.query(`DROP TABLE "audit_event"`);
    }

}
