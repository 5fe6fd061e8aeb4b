import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The server's version: package.json's, read once. It sits two folders above this file both in src/ and in
 * dist/ (the image copies it beside dist/). "unknown" rather than a failed start when it cannot be read.
 */
export const SERVER_VERSION: string = readVersion();

function readVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Whether a request asks for the version as plain text: it accepts text/plain and not JSON. Anything else
 * (no Accept, `*\/*`, axios's `application/json, text/plain, *\/*`) gets the JSON string.
 */
export function wantsPlainText(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept
    .toLowerCase()
    .split(',')
    .map((part) => part.split(';')[0].trim());
  return types.includes('text/plain') && !types.some((type) => type === 'application/json' || type === 'application/*');
}
