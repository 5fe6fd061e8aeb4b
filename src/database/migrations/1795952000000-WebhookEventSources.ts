import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * What the webhook events that no API call emits need (issue 11):
 * - `apptoken.expiring`, once per token: app_token.expiring_notified_at, claimed by the periodic scan through a
 *   partial index of the tokens not yet announced. A trigger clears it when a token's expiry moves (no route
 *   moves one today), so an extended token is announced again when it nears its new end.
 * - `apptoken.revoked_used`, at most once a minute per token across instances: revoked_used_notified_at on the
 *   token, and on its tombstone once the record is deleted. The tombstone also keeps the deleted token's id,
 *   identity id and dates, copied by the trigger from the removed row (no lookup: in an identity's cascade the
 *   identity row is already gone); the identity's name and the roles come from the presented token's claims.
 */
export class WebhookEventSources1795952000000 implements MigrationInterface {
    name = 'WebhookEventSources1795952000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" ADD "expiring_notified_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "app_token" ADD "revoked_used_notified_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE INDEX "IDX_app_token_expiring" ON "app_token" ("expires_at") WHERE "expiring_notified_at" IS NULL AND "expires_at" IS NOT NULL`);
        await queryRunner.query(`CREATE FUNCTION "app_token_expiry_moved"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."expires_at" IS DISTINCT FROM OLD."expires_at" THEN NEW."expiring_notified_at" := NULL; END IF;
  RETURN NEW;
END $$`);
        // Fires only for an UPDATE that names expires_at: revocations and last-use writes pay nothing.
        await queryRunner.query(`CREATE TRIGGER "app_token_expiry_moved" BEFORE UPDATE OF "expires_at" ON "app_token" FOR EACH ROW EXECUTE FUNCTION "app_token_expiry_moved"()`);

        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "token_id" integer`);
        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "identity_id" integer`);
        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "token_created_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "token_expires_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "token_revoked_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "app_token_tombstone" ADD "revoked_used_notified_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE OR REPLACE FUNCTION "app_token_tombstone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "app_token_tombstone" ("hash", "expires_at", "token_id", "identity_id", "token_created_at", "token_expires_at", "token_revoked_at")
    VALUES (OLD."hash", OLD."jwt_expires_at", OLD."id", OLD."identity_id", OLD."created_at", OLD."expires_at", OLD."revoked_at")
    ON CONFLICT ("hash") DO UPDATE SET "expires_at" = CASE
      WHEN "app_token_tombstone"."expires_at" IS NULL OR EXCLUDED."expires_at" IS NULL THEN NULL
      ELSE greatest("app_token_tombstone"."expires_at", EXCLUDED."expires_at") END,
      "token_id" = EXCLUDED."token_id", "identity_id" = EXCLUDED."identity_id", "token_created_at" = EXCLUDED."token_created_at",
      "token_expires_at" = EXCLUDED."token_expires_at", "token_revoked_at" = EXCLUDED."token_revoked_at";
  -- InvalidationService's encoding of a token change ('t:' and the hash).
  PERFORM pg_notify('apptoken_invalidation', 't:' || OLD."hash");
  RETURN OLD;
END $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE OR REPLACE FUNCTION "app_token_tombstone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "app_token_tombstone" ("hash", "expires_at") VALUES (OLD."hash", OLD."jwt_expires_at")
    ON CONFLICT ("hash") DO UPDATE SET "expires_at" = CASE
      WHEN "app_token_tombstone"."expires_at" IS NULL OR EXCLUDED."expires_at" IS NULL THEN NULL
      ELSE greatest("app_token_tombstone"."expires_at", EXCLUDED."expires_at") END;
  PERFORM pg_notify('apptoken_invalidation', 't:' || OLD."hash");
  RETURN OLD;
END $$`);
        for (const column of ['revoked_used_notified_at', 'token_revoked_at', 'token_expires_at', 'token_created_at', 'identity_id', 'token_id']) {
            await queryRunner.query(`ALTER TABLE "app_token_tombstone" DROP COLUMN "${column}"`);
        }
        await queryRunner.query(`DROP TRIGGER "app_token_expiry_moved" ON "app_token"`);
        await queryRunner.query(`DROP FUNCTION "app_token_expiry_moved"()`);
        await queryRunner.query(`DROP INDEX "IDX_app_token_expiring"`);
        await queryRunner.query(`ALTER TABLE "app_token" DROP COLUMN "revoked_used_notified_at"`);
        await queryRunner.query(`ALTER TABLE "app_token" DROP COLUMN "expiring_notified_at"`);
    }

}
