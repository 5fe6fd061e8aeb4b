import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/** A signed-in session kept by `apptoken login` for one server. */
export interface StoredSession {
  url: string;
  /** `name=value` as the server set it (apptoken_session, or __Host-apptoken_session over HTTPS). */
  cookie: string;
  username: string;
  savedAt: string;
}

/** $XDG_CONFIG_HOME/apptoken, else ~/.config/apptoken (also on macOS and Windows: one place to look). */
export function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'apptoken');
}

/** One file per server, named by a hash of its URL, so sessions on two servers never mix. */
export function sessionFile(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update(normalizeUrl(url)).digest('hex').slice(0, 16);
  return path.join(configDirectory(env), `session-${key}.json`);
}

/** scheme://host:port and path, without a trailing slash: http://Localhost:5000/ and http://localhost:5000 are one server. */
export function normalizeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`.toLowerCase();
}

/**
 * The session kept for this server, if any. A damaged file (not JSON, `null`, an array, no cookie) is ignored
 * with a one-line warning, as if signed out: `apptoken login` writes a new one over it.
 */
export async function readSession(url: string): Promise<StoredSession | undefined> {
  const file = sessionFile(url);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    stored = undefined;
  }
  const fields = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Partial<StoredSession>) : undefined;
  if (fields === undefined || typeof fields.cookie !== 'string' || !fields.cookie.includes('=')) {
    process.stderr.write(`warning: ignoring the damaged session file ${file} (run "apptoken login" again)\n`);
    return undefined;
  }
  return { url: String(fields.url ?? url), cookie: fields.cookie, username: String(fields.username ?? ''), savedAt: String(fields.savedAt ?? '') };
}

/** Written 0600 in a 0700 directory: the cookie signs its holder in as the user. */
export async function saveSession(session: StoredSession): Promise<string> {
  const file = sessionFile(session.url);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await chmod(path.dirname(file), 0o700);
  // Removed first, so a file some other process created with wider permissions is not reused.
  await rm(file, { force: true });
  await writeFile(file, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

export async function deleteSession(url: string): Promise<boolean> {
  const file = sessionFile(url);
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
