import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Webhooks (issue 11): the subscriptions, the outbox of deliveries (written in the same transaction as the
 * change that emits them) and each delivery's attempts. The payload is stored as text, not jsonb: it is the
 * exact body signed and sent on every attempt.
 */
export class Webhooks1795950000000 implements MigrationInterface {
    name = 'Webhooks1795950000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "webhook" ("id" SERIAL NOT NULL, "url" character varying(2048) NOT NULL, "events" text array NOT NULL, "secret" character varying(256) NOT NULL, "description" character varying(1024) NOT NULL DEFAULT '', "enabled" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_webhook" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "webhook_delivery" ("id" BIGSERIAL NOT NULL, "webhook_id" integer NOT NULL, "message_id" character varying(64) NOT NULL, "event_type" character varying(64) NOT NULL, "payload" text NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT 0, "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_webhook_delivery" PRIMARY KEY ("id"), CONSTRAINT "FK_webhook_delivery_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE)`);
        await queryRunner.query(`CREATE INDEX "IDX_webhook_delivery_due" ON "webhook_delivery" ("next_attempt_at") WHERE "status" = 'pending'`);
        await queryRunner.query(`CREATE INDEX "IDX_webhook_delivery_webhook" ON "webhook_delivery" ("webhook_id", "id" DESC)`);
        await queryRunner.query(`CREATE TABLE "webhook_attempt" ("id" BIGSERIAL NOT NULL, "delivery_id" bigint NOT NULL, "attempt" integer NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "duration_ms" integer NOT NULL, "status_code" integer, "response_body" character varying(1024), "error" character varying(512), CONSTRAINT "PK_webhook_attempt" PRIMARY KEY ("id"), CONSTRAINT "FK_webhook_attempt_delivery" FOREIGN KEY ("delivery_id") REFERENCES "webhook_delivery"("id") ON DELETE CASCADE)`);
        await queryRunner.query(`CREATE INDEX "IDX_webhook_attempt_delivery" ON "webhook_attempt" ("delivery_id", "attempt")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "webhook_attempt"`);
        await queryRunner.query(`DROP TABLE "webhook_delivery"`);
        await queryRunner.query(`DROP TABLE "webhook"`);
    }

}
