import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Generated from the entities (the jwt_expires_at column), then extended by hand: a trigger that leaves a
 * tombstone for every removed token row, whatever removes it (DELETE, purge, or the cascade of an identity
 * delete), and announces it on the invalidation channel so every instance's cache drops it.
 */
export class TokenTombstonesEverywhere1795920494224 implements MigrationInterface {
    name = 'TokenTombstonesEverywhere1795920494224'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "app_token" ADD "jwt_expires_at" TIMESTAMP WITH TIME ZONE`);
        // Granted and rotated tokens expire when their JWT does; a migrated one may have had its expiry shortened,
        // and its JWT's exp is not known here: its tombstone is kept for ever (null).
        await queryRunner.query(`UPDATE "app_token" SET "jwt_expires_at" = "expires_at" WHERE "origin" <> 'migrated'`);
        await queryRunner.query(`CREATE FUNCTION "app_token_tombstone"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "app_token_tombstone" ("hash", "expires_at") VALUES (OLD."hash", OLD."jwt_expires_at")
    ON CONFLICT ("hash") DO UPDATE SET "expires_at" = CASE
      WHEN "app_token_tombstone"."expires_at" IS NULL OR EXCLUDED."expires_at" IS NULL THEN NULL
      ELSE greatest("app_token_tombstone"."expires_at", EXCLUDED."expires_at") END;
  -- InvalidationService's encoding of a token change ('t:' and the hash).
  PERFORM pg_notify('apptoken_invalidation', 't:' || OLD."hash");
  RETURN OLD;
END $$`);
        await queryRunner.query(`CREATE TRIGGER "app_token_tombstone" AFTER DELETE ON "app_token" FOR EACH ROW EXECUTE FUNCTION "app_token_tombstone"()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "app_token_tombstone" ON "app_token"`);
        await queryRunner.query(`DROP FUNCTION "app_token_tombstone"()`);
        await queryRunner.query(`ALTER TABLE "app_token" DROP COLUMN "jwt_expires_at"`);
    }

}
