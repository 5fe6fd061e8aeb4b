import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Webhook delivery (issue 11): a secret replaced by PUT keeps signing beside the new one for 24 hours (Standard
 * Webhooks' zero-downtime rotation: both signatures in `webhook-signature`), and finished deliveries are
 * found by age for the retention purge.
 */
export class WebhookSecretRotation1795953000000 implements MigrationInterface {
    name = 'WebhookSecretRotation1795953000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook" ADD "previous_secret" character varying(256)`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD "previous_secret_until" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE INDEX "IDX_webhook_delivery_completed" ON "webhook_delivery" ("completed_at") WHERE "status" <> 'pending'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "IDX_webhook_delivery_completed"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "previous_secret_until"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "previous_secret"`);
    }

}
