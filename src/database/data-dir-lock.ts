import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { link, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** How often a holder touches its lock, and how long after the last touch a lock whose owner cannot be seen is stale. */
export const LOCK_HEARTBEAT_MS = 2_000;
export const LOCK_STALE_MS = 10_000;

interface Holder {
  pid: number;
  /** Absent in a lock written before heartbeats (a bare pid). */
  host?: string;
  /** The holder's pid namespace (/proc/self/ns/pid), where Linux tells it. */
  pidns?: string;
  id?: string;
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

const HERE = { pid: process.pid, host: hostname(), pidns: pidNamespace() };

/** Another live process (a running server, or a local CLI command) holds DATA_DIR's embedded database. */
export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly lockFile: string,
    readonly host?: string,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid}${host === undefined || host === hostname() ? '' : ` on host ${host}`} ` +
        `(if no AppToken Server uses it, delete ${lockFile})`,
    );
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

/**
 * The lock of an embedded data directory: two processes on one PGlite directory would corrupt it. The file
 * appears at once with its holder in it (written aside, then hard-linked into place, which fails if it exists),
 * and the holder touches it every LOCK_HEARTBEAT_MS. A lock is taken over only when its holder is surely gone
 * (see judge): its pid not alive in this pid namespace, or, when it cannot be seen from here, a heartbeat older
 * than LOCK_STALE_MS. The heartbeat decides whenever the holder cannot be seen: in another pid
 * namespace (`docker run -v data:/data image apptoken ...` beside the server's container, where both are pid 1)
 * a liveness check by pid proved nothing, and a CLI took, then deleted, a running server's lock (found from
 * outside). Only the holder removes its own lock.
 */
export class DataDirLock {
  /** The ids of the locks this process holds: a lock with our pid is an earlier run's unless it is one of these. */
  private static readonly held = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    private readonly id: string,
  ) {
    DataDirLock.held.add(id);
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(this.file, now, now).catch(() => undefined);
    }, LOCK_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Takes the lock, waiting up to a stale period for a holder that cannot be seen to show it is alive. */
  static async take(file: string, options: { staleMs?: number } = {}): Promise<DataDirLock> {
    const staleMs = options.staleMs ?? LOCK_STALE_MS;
    const id = randomUUID();
    const aside = `${file}.${process.pid}.${id.slice(0, 8)}`;
    await writeFile(aside, JSON.stringify({ pid: process.pid, host: HERE.host, pidns: HERE.pidns, id } satisfies Holder), { mode: 0o600 });
    const deadline = Date.now() + staleMs + LOCK_HEARTBEAT_MS;
    try {
      for (;;) {
        try {
          await link(aside, file);
          return new DataDirLock(file, id);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const found = await readHolder(file);
        if (found === undefined) continue; // removed meanwhile: try again
        const verdict = found.holder.id !== undefined && DataDirLock.held.has(found.holder.id) ? 'held' : judge(found.holder, found.age, staleMs);
        if (verdict === 'stale') {
          await rm(file, { force: true });
          continue;
        }
        if (verdict === 'held' || Date.now() >= deadline) throw new EmbeddedDatabaseInUseError(path.dirname(file), found.holder.pid, file, found.holder.host);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await rm(aside, { force: true });
    }
  }

  /** Stops the heartbeat and removes the lock, if it is still this one's. */
  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    DataDirLock.held.delete(this.id);
    const found = await readHolder(this.file);
    if (found?.holder.id === this.id) await rm(this.file, { force: true });
  }
}

/**
 * Whether a lock is held ('held'), surely abandoned ('stale'), or not known yet ('unsure': its holder cannot be
 * seen from here and its heartbeat is recent; wait for it to be touched again or to go stale). Its pid is judged
 * only where it means the same process: on this host and in this pid namespace (a lock of before heartbeats is
 * taken as such). A server restarted after a crash takes its lock over at once; a CLI in another namespace waits
 * for the heartbeat.
 */
export function judge(holder: Holder, ageMs: number, staleMs = LOCK_STALE_MS, here: { pid: number; host: string; pidns?: string } = HERE, alive = isAlive): 'held' | 'stale' | 'unsure' {
  const sameHost = holder.host === undefined || holder.host === here.host;
  if (sameHost && holder.pid === here.pid) return 'stale'; // ours is not taken yet: a process before us had this pid
  const seen = sameHost && (holder.host === undefined || (holder.pidns !== undefined && holder.pidns === here.pidns));
  if (seen) return alive(holder.pid) ? 'held' : 'stale';
  return ageMs > staleMs ? 'stale' : 'unsure';
}

async function readHolder(file: string): Promise<{ holder: Holder; age: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { holder: parseHolder(text), age: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function parseHolder(text: string): Holder {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const parsed = JSON.parse(trimmed) as Partial<Holder>;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return { pid: Number(parsed.pid) || 0, host: text(parsed.host), pidns: text(parsed.pidns), id: text(parsed.id) };
  } catch {
    return { pid: 0 };
  }
}

function isAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
