import { parseConcurrency, runImportPsu } from './import-psu.js';

/**
 * A stand-alone entry for `import-psu` until the `apptoken` CLI wires `runImportPsu` in:
 *   APPTOKEN_URL=http://localhost:5000 APPTOKEN_TOKEN=<Administrator app token> node dist/cli/import-psu-run.js FILE [--concurrency N] [--json]
 * Exit codes: 0 every entry migrated or already there, 1 anything refused or failed, 2 usage.
 */
const USAGE = 'usage: import-psu-run FILE [--concurrency N] [--json]   (APPTOKEN_URL, APPTOKEN_TOKEN from the environment)\n';

function usage(message: string): never {
  process.stderr.write(`import-psu: ${message}\n${USAGE}`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file: string | undefined;
let concurrency: number | undefined;
let json = false;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--json') json = true;
  else if (arg === '--concurrency' || arg.startsWith('--concurrency=')) {
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
    if (value === undefined) usage('--concurrency needs a number');
    const parsed = parseConcurrency(value);
    if (!parsed.ok) usage(parsed.message);
    concurrency = parsed.value;
  } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
  else if (file === undefined) file = arg;
  else usage('give one FILE');
}
if (file === undefined) usage('FILE is missing');
const token = process.env.APPTOKEN_TOKEN;
if (!token) usage('set APPTOKEN_TOKEN to an Administrator app token');

const { exitCode } = await runImportPsu({
  baseUrl: process.env.APPTOKEN_URL || 'http://localhost:5000',
  headers: { authorization: `Bearer ${token}` },
  file,
  concurrency,
  json,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stderr.isTTY === true,
});
process.exitCode = exitCode;
