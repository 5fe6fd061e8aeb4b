import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Every row npm run bench measures (bench/run.mjs); a target missing from a run fails here. */
const TARGET_IDS = [
  'bare',
  'alive',
  'my',
  'verify-1000',
  'verify-10',
  'uncached',
  'pg-token-list',
  'token-list',
  'pg-identity-list',
  'identity-list',
  'pg-insert',
  'grant',
  'argon2',
  'signin',
  'embedded-alive',
  'embedded-my',
  'embedded-token-list',
  'embedded-identity-list',
];

describe('npm run bench (smoke mode)', () => {
  it('runs every target, checks its answers and writes the table and the JSON elsewhere than bench/results', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'apptoken-bench-spec-'));
    const output = path.join(dir, 'smoke.json');
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['bench/run.mjs', '--smoke'], { env: { ...process.env, BENCH_OUTPUT: output }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('exit', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      });
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      const report = JSON.parse(readFileSync(output, 'utf8'));
      expect(Object.keys(report.results).sort()).toEqual([...TARGET_IDS].sort());
      for (const id of TARGET_IDS) {
        expect({ id, positive: report.results[id].rps > 0 && report.results[id].requests > 0 }).toEqual({ id, positive: true });
        expect(stdout).toContain(report.results[id].route);
      }
      expect(report.embedded.rssMB).toBeGreaterThan(0);
      expect(report.revocation.allMs.length).toBeGreaterThan(0);
      expect(stdout).toContain('| route');
      expect(stdout).toContain('targets missed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
