import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirLock, EmbeddedDatabaseInUseError, judge, parseHolder } from './data-dir-lock.js';

const here = { pid: 4242, host: 'server-a', pidns: 'pid:[1]' };
const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

describe('judge: who holds an embedded data directory', () => {
  it('trusts the pid where it names the same process (this host, this pid namespace), the heartbeat elsewhere', () => {
    expect(judge({ pid: 77, host: 'server-a', pidns: 'pid:[1]' }, 0, 10_000, here, alive([77]))).toBe('held');
    expect(judge({ pid: 77 }, 60_000, 10_000, here, alive([77]))).toBe('held'); // a lock of before heartbeats
    // A server restarted after a crash: the holder is gone, taken over at once however recent its heartbeat.
    expect(judge({ pid: 77, host: 'server-a', pidns: 'pid:[1]' }, 500, 10_000, here, alive([]))).toBe('stale');
    expect(judge({ pid: 4242, host: 'server-a', pidns: 'pid:[9]' }, 0, 10_000, here, alive([4242]))).toBe('stale'); // an earlier run with our pid
    // Same host name, another pid namespace (unshare --pid): its pid means nothing here.
    expect(judge({ pid: 77, host: 'server-a', pidns: 'pid:[2]' }, 1_000, 10_000, here, alive([]))).toBe('unsure');
    expect(judge({ pid: 77, host: 'server-a', pidns: 'pid:[2]' }, 11_000, 10_000, here, alive([]))).toBe('stale');
    // Another container: its pid 1 is not ours even when we are pid 1 too.
    expect(judge({ pid: 1, host: 'server-b', pidns: 'pid:[3]' }, 1_000, 10_000, { pid: 1, host: 'cli', pidns: 'pid:[4]' }, alive([1]))).toBe('unsure');
    expect(judge({ pid: 1, host: 'server-b', pidns: 'pid:[3]' }, 11_000, 10_000, { pid: 1, host: 'cli', pidns: 'pid:[4]' }, alive([1]))).toBe('stale');
  });

  it('reads old (bare pid), current and damaged lock files', () => {
    expect(parseHolder('123\n')).toEqual({ pid: 123 });
    expect(parseHolder('{"pid":1,"host":"h","pidns":"pid:[5]","id":"x"}')).toEqual({ pid: 1, host: 'h', pidns: 'pid:[5]', id: 'x' });
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
