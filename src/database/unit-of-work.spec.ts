import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('UnitOfWork is the only way to change data', () => {
  it('leaves no transaction, NOTIFY or cache invalidation written out by hand anywhere else', () => {
    const offenders = sources(SRC)
      .map((path) => ({ path: relative(SRC, path), text: readFileSync(path, 'utf8') }))
      .filter(({ path }) => path !== 'database/unit-of-work.ts' && path !== 'database/invalidation.service.ts')
      .filter(({ text }) => /\.transaction\(|invalidation\.(notify|apply)\(|pg_notify/.test(text))
      .map(({ path }) => path);
    expect(offenders).toEqual([]);
  });
});
