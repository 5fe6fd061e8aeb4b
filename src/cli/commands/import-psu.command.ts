import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { apiFor, globalsOf } from '../context.js';
import { positiveInteger } from '../parse.js';

/** What `import-psu` hands the importer (src/cli/import-psu.ts); it returns the exit code (0: all went in). */
export interface ImportPsuRequest {
  api: ApiClient;
  file: string;
  json: boolean;
  concurrency: number | undefined;
}
export type ImportPsuRunner = (request: ImportPsuRequest) => Promise<number>;

/**
 * `apptoken import-psu FILE`: registered with the importer passed in, so the command's place and options are
 * fixed here and the importer stays a plain module (wired in main.ts: registerImportPsuCommand(program, runImportPsu)).
 */
export function registerImportPsuCommand(program: Command, run: ImportPsuRunner): void {
  program
    .command('import-psu')
    .description("Migrate PowerShell Universal app tokens in bulk (POST /api/v1/apptoken); safe to run again")
    .argument('<file>', 'JSON: an array, or one object a line, of { Token, Identity: { Name }, Role, Expiration }, or a plain list of tokens')
    .option('--concurrency <n>', 'requests in parallel', positiveInteger)
    .action(async (file: string, options: { concurrency?: number }, command: Command) => {
      const api = await apiFor(command);
      process.exitCode = await run({ api, file, json: globalsOf(command).json === true, concurrency: options.concurrency });
    });
}
