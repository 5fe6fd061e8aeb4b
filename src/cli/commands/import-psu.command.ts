import { InvalidArgumentError, type Command } from 'commander';
import { apiFor, globalsOf } from '../context.js';
import { parseConcurrency, runImportPsu } from '../import-psu.js';

/** --concurrency: 1 to 16, else a usage error (exit 2). */
function concurrency(value: string): number {
  const parsed = parseConcurrency(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
  return parsed.value;
}

/** `apptoken import-psu FILE`: the CLI's options and credentials, handed to the importer (src/cli/import-psu.ts). */
export function registerImportPsuCommand(program: Command): void {
  program
    .command('import-psu')
    .description('Migrate PowerShell Universal app tokens in bulk (POST /api/v1/apptoken); safe to run again')
    .argument('<file>', 'JSON (an array, or one object a line) of { Token, Identity: { Name }, Role, Expiration }, or a plain list of tokens; - reads stdin')
    .option('--concurrency <n>', 'requests in flight at once (1 to 16, default 4)', concurrency)
    .addHelpText('after', '\nExit code: 0 every token migrated or already there, 1 anything refused or failed, 2 usage.')
    .action(async (file: string, options: { concurrency?: number }, command: Command) => {
      const api = await apiFor(command);
      const { exitCode } = await runImportPsu({
        baseUrl: api.baseUrl,
        headers: api.credentialHeaders(),
        file,
        concurrency: options.concurrency,
        json: globalsOf(command).json === true,
        stdout: process.stdout,
        stderr: process.stderr,
        isTTY: process.stderr.isTTY === true,
        stdin: process.stdin,
      });
      process.exitCode = exitCode;
    });
}
