import type { MigrationInterface, QueryRunner } from 'typeorm';
import { roleNameKey } from '../../role/role-name.js';

/** The fold before this migration (a hand-made homoglyph map), kept only so that `down` can restore its keys. */
const PREVIOUS_CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', ζ: 'z',
  ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŀ: 'l', '0': 'o', '1': 'l', '|': 'l',
};

function previousKey(name: string): string {
  const folded = name.normalize('NFKC').toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/[\s._-]+/g, '');
  let key = '';
  for (const char of folded) key += PREVIOUS_CONFUSABLES[char] ?? char;
  return key.replace(/l/g, 'i');
}

/**
 * Role keys become UTS #39 skeletons (see role-name.ts), in a column wide enough for them. A custom role that
 * now folds onto an older one (a look-alike the old map missed, such as `Administratօr`) is renamed, so that
 * it can no longer pass for the other: `<name> lookalike <id>`.
 */
async function recomputeKeys(queryRunner: QueryRunner, fold: (name: string) => string): Promise<void> {
  const roles = (await queryRunner.query(`SELECT "id", "name" FROM "role" ORDER BY "builtin" DESC, "id"`)) as Array<{ id: number; name: string }>;
  // Temporary keys first, so that no update trips over a key another role still holds.
  await queryRunner.query(`UPDATE "role" SET "name_key" = '#' || "id"`);
  const taken = new Set<string>();
  for (const role of roles) {
    let { name } = role;
    let key = fold(name);
    for (let attempt = 1; taken.has(key); attempt++) {
      name = `${role.name.slice(0, 40)} lookalike ${role.id}${attempt > 1 ? ` ${attempt}` : ''}`;
      key = fold(name);
    }
    taken.add(key);
    await queryRunner.query(`UPDATE "role" SET "name" = $1, "name_key" = $2 WHERE "id" = $3`, [name, key, role.id]);
  }
}

export class RoleNameSkeletons1795921055500 implements MigrationInterface {
  name = 'RoleNameSkeletons1795921055500';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "role" ALTER COLUMN "name_key" TYPE character varying(512)`);
    await recomputeKeys(queryRunner, roleNameKey);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await recomputeKeys(queryRunner, previousKey);
    await queryRunner.query(`ALTER TABLE "role" ALTER COLUMN "name_key" TYPE character varying(64)`);
  }
}
