import { describe, expect, it } from '@jest/globals';
// @ts-expect-error: a plain ESM module of the benchmark, without types
import { checkLoad, cpuTicksFromStat, describeTarget, figures, formatTable, median, medianOfRounds, meets, rssBytesFromStatus } from './lib/report.mjs';

describe('benchmark report logic', () => {
  it('takes the median of odd and even counts, ignoring missing figures', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('reads utime + stime from /proc/PID/stat even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 150 25 0 0 20 0 11 0 1000 2000000 5000';
    expect(cpuTicksFromStat(stat)).toBe(175);
    expect(cpuTicksFromStat('garbage')).toBeNaN();
  });

  it('reads VmRSS in bytes', () => {
    expect(rssBytesFromStatus('Name:\tnode\nVmRSS:\t  204800 kB\nVmSwap:\t0 kB\n')).toBe(204800 * 1024);
    expect(rssBytesFromStatus('Name:\tnode\n')).toBeNaN();
  });

  it('refuses a load with a refused answer, an error, a timeout or no success at all', () => {
    const ok = { '2xx': 100, errors: 0, timeouts: 0, statusCodeStats: { 200: { count: 100 } } };
    expect(checkLoad('t', ok)).toBe(100);
    expect(() => checkLoad('t', { ...ok, statusCodeStats: { 200: { count: 99 }, 401: { count: 1 } } })).toThrow('1 × 401');
    expect(() => checkLoad('t', { ...ok, '2xx': 0, statusCodeStats: {} })).toThrow('no request answered');
    expect(() => checkLoad('t', { ...ok, errors: 3 })).toThrow('3 errors');
    expect(() => checkLoad('t', { ...ok, timeouts: 1 })).toThrow('1 timeouts');
    expect(checkLoad('t', { ...ok, '2xx': 0, statusCodeStats: { 401: { count: 7 } } }, 401)).toBe(7);
  });

  it('turns ticks into CPU µs per request and takes medians per figure', () => {
    const one = figures({ ok: 1000, seconds: 2, p50: 1, p99: 5, cpuTicks: 30, ticksPerSecond: 100 });
    expect(one).toEqual({ requests: 1000, rps: 500, p50: 1, p99: 5, cpuUsPerRequest: 300 });
    const other = figures({ ok: 600, seconds: 2, p50: 3, p99: 9, cpuTicks: 30, ticksPerSecond: 100 });
    expect(medianOfRounds([one, other])).toMatchObject({ rps: 400, p50: 2, p99: 7, cpuUsPerRequest: 400, requests: 1600, rounds: 2 });
  });

  it('evaluates targets: at least, under, and within a tolerance of 1', () => {
    expect(meets('>=', 0.5, 0.5)).toBe(true);
    expect(meets('>=', 0.49, 0.5)).toBe(false);
    expect(meets('<', 250, 250)).toBe(false);
    expect(meets('within', 0.91, 0.1)).toBe(true);
    expect(meets('within', 1.11, 0.1)).toBe(false);
    expect(meets('>=', NaN, 0)).toBe(false);
    expect(describeTarget({ op: '>=', limit: 0.75 })).toBe('≥ 0.75 ×');
    expect(describeTarget({ op: '<', limit: 250, unit: 'MB' })).toBe('< 250 MB');
    expect(describeTarget({ op: 'within', limit: 0.25 })).toBe('±25 %');
  });

  it('formats one aligned markdown table with ✓ and ✗', () => {
    const table = formatTable([
      { route: 'bare', rps: 20000, p50: 0, p99: 1, cpuUsPerRequest: 22 },
      { route: 'GET /api/v1/alive', rps: 9000.4, p50: 1, p99: 3, cpuUsPerRequest: 60, ratioLabel: '0.45 × bare', target: '≥ 0.5 ×', met: false },
      { route: 'memory', ratioLabel: '200 MB', target: '< 250 MB', met: true },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(lines[3]).toContain('9,000');
    expect(lines[3]).toContain('✗');
    expect(lines[4]).toContain('✓');
  });
});
