import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirLock, EmbeddedDatabaseInUseError, judge, parseHolder } from './data-dir-lock.js';

const here = { pid: 4242, host: 'server-a' };
const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

describe('judge: who holds an embedded data directory', () => {
  it('trusts a live pid on this host, and the heartbeat wherever the holder cannot be seen', () => {
    expect(judge({ pid: 77, host: 'server-a' }, 60_000, 10_000, here, alive([77]))).toBe('held');
    expect(judge({ pid: 77 }, 60_000, 10_000, here, alive([77]))).toBe('held'); // a lock of before heartbeats
    expect(judge({ pid: 4242, host: 'server-a' }, 0, 10_000, here, alive([4242]))).toBe('stale'); // an earlier run with our pid
    expect(judge({ pid: 77, host: 'server-a' }, 60_000, 10_000, here, alive([]))).toBe('stale');
    expect(judge({ pid: 77, host: 'server-a' }, 1_000, 10_000, here, alive([]))).toBe('unsure'); // another pid namespace, same host name
    // Another container: its pid 1 is not ours even when we are pid 1 too, and liveness by pid says nothing.
    expect(judge({ pid: 1, host: 'server-b' }, 1_000, 10_000, { pid: 1, host: 'cli' }, alive([1]))).toBe('unsure');
    expect(judge({ pid: 1, host: 'server-b' }, 11_000, 10_000, { pid: 1, host: 'cli' }, alive([1]))).toBe('stale');
  });

  it('reads old (bare pid), current and damaged lock files', () => {
    expect(parseHolder('123\n')).toEqual({ pid: 123 });
    expect(parseHolder('{"pid":1,"host":"h","id":"x"}')).toEqual({ pid: 1, host: 'h', id: 'x' });
    expect(parseHolder('garbage')).toEqual({ pid: 0 });
  });
});

describe('DataDirLock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
    file = path.join(dir, 'embedded.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a lock whose holder is in another container and keeps its heartbeat, and leaves that lock in place', async () => {
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'another-container', id: 'theirs' }));
    const heartbeat = setInterval(() => utimesSync(file, new Date(), new Date()), 100);
    try {
      await expect(DataDirLock.take(file, { staleMs: 600 })).rejects.toBeInstanceOf(EmbeddedDatabaseInUseError);
    } finally {
      clearInterval(heartbeat);
    }
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe('theirs');
  });

  it('takes over a lock whose heartbeat stopped, and releases only its own', async () => {
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'another-container', id: 'theirs' }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const lock = await DataDirLock.take(file, { staleMs: 600 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await expect(DataDirLock.take(file, { staleMs: 600 })).rejects.toBeInstanceOf(EmbeddedDatabaseInUseError); // held here, alive
    // Replaced behind its back (deleted by hand, taken by another): release leaves the other's lock alone.
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'another-container', id: 'next' }));
    await lock.release();
    expect(existsSync(file)).toBe(true);
  });

  it('removes its own lock on release', async () => {
    const lock = await DataDirLock.take(file);
    await lock.release();
    expect(existsSync(file)).toBe(false);
  });
});
