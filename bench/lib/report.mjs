// The benchmark's pure logic: statistics, /proc parsing, checks of a load's answers, target evaluation and the
// table. No I/O here, so a unit spec (bench/report.spec.ts) holds it.

/** The median of numbers (the mean of the two middle ones for an even count); NaN for none. */
export function median(values) {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * CPU time used so far by a process, in clock ticks (utime + stime), from the text of /proc/PID/stat.
 * The command name (2nd field) may hold spaces and parentheses: fields are counted after the last ')'.
 */
export function cpuTicksFromStat(text) {
  const end = text.lastIndexOf(')');
  if (end === -1) return NaN;
  const fields = text.slice(end + 2).trim().split(/\s+/);
  // After the name: state is field 3, so utime (field 14) and stime (field 15) are at 11 and 12 here.
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident memory in bytes from the text of /proc/PID/status (VmRSS, in kB there); NaN when absent. */
export function rssBytesFromStatus(text) {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : NaN;
}

/**
 * Throws unless a load's answers were all what the target expects: some requests done, none refused with
 * another status, no socket errors or timeouts. A benchmark that counts 401s as fast is worthless.
 */
export function checkLoad(title, result, expectedStatus = '2xx') {
  const problems = [];
  const statuses = result.statusCodeStats ?? {};
  const ok = expectedStatus === '2xx' ? result['2xx'] : (statuses[String(expectedStatus)]?.count ?? 0);
  const unexpected = Object.entries(statuses)
    .filter(([status]) => (expectedStatus === '2xx' ? !/^2\d\d$/.test(status) : status !== String(expectedStatus)))
    .map(([status, { count }]) => `${count} × ${status}`);
  if (!(ok > 0)) problems.push(`no request answered ${expectedStatus}`);
  if (unexpected.length > 0) problems.push(`unexpected answers: ${unexpected.join(', ')}`);
  if (result.errors > 0) problems.push(`${result.errors} errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  if (problems.length > 0) throw new Error(`${title}: ${problems.join('; ')}`);
  return ok;
}

/** One load's figures: requests per second (successful ones), latency, server CPU µs per request. */
export function figures({ ok, seconds, p50, p99, cpuTicks, ticksPerSecond }) {
  return {
    requests: ok,
    rps: ok / seconds,
    p50,
    p99,
    cpuUsPerRequest: Number.isFinite(cpuTicks) ? (cpuTicks * (1e6 / ticksPerSecond)) / ok : NaN,
  };
}

/** The median over rounds of each figure of a target. */
export function medianOfRounds(rounds) {
  const of = (key) => median(rounds.map((round) => round[key]));
  return { rps: of('rps'), p50: of('p50'), p99: of('p99'), cpuUsPerRequest: of('cpuUsPerRequest'), requests: rounds.reduce((sum, r) => sum + r.requests, 0), rounds: rounds.length };
}

/**
 * Evaluates one target: `value` against `limit` by `op`. Ops: '>=' and '<' (plain), 'within' (|value - 1| <=
 * limit, for ratios of two runs that should match). Missing figures (NaN) do not meet anything.
 */
export function meets(op, value, limit) {
  if (!Number.isFinite(value)) return false;
  if (op === '>=') return value >= limit;
  if (op === '<') return value < limit;
  if (op === '<=') return value <= limit;
  if (op === 'within') return Math.abs(value - 1) <= limit;
  throw new Error(`unknown op ${op}`);
}

/** The wording of a target in the table, e.g. "≥ 0.50 ×", "< 250 MB", "±10 %". */
export function describeTarget({ op, limit, unit = '×' }) {
  if (op === 'within') return `±${Math.round(limit * 100)} %`;
  const sign = { '>=': '≥', '<': '<', '<=': '≤' }[op];
  return unit === '×' ? `${sign} ${limit} ×` : `${sign} ${limit} ${unit}`;
}

function formatNumber(value, digits = 0) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * The one table: route | req/s | p50 | p99 | CPU µs/req | ratio (against its reference, or the figure the
 * target reads) | target | met. `rows` hold { route, rps, p50, p99, cpuUsPerRequest, ratio, ratioLabel, target, met }.
 */
export function formatTable(rows) {
  const header = ['route', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs reference', 'target', 'met'];
  const cells = rows.map((row) => [
    row.route,
    formatNumber(row.rps),
    formatNumber(row.p50),
    formatNumber(row.p99),
    formatNumber(row.cpuUsPerRequest),
    row.ratioLabel ?? (Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)} × ${row.reference ?? ''}`.trim() : ''),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? '✓' : '✗',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column].length)));
  const numeric = new Set([1, 2, 3, 4]);
  const render = (line) => `| ${line.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric.has(column) ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [render(header), rule, ...cells.map(render)].join('\n');
}
