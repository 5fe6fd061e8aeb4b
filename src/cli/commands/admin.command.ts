import type { Command } from 'commander';
import { randomSecret } from '../../common/crypto.js';
import { globalsOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { note, printJson, printLine } from '../output.js';
import { readSecretFromStdin } from '../prompt.js';

const LOCAL_HELP =
  '\nA local command: it opens the database itself with the server\'s configuration (the environment, and .env in\n' +
  'the working directory): DATABASE_URL, else the embedded database in DATA_DIR (./data), which must not be in use\n' +
  'by a running server (stop it first; with DATABASE_URL the server may keep running).';

export function registerAdminAndLocalCommands(program: Command): void {
  const admin = program.command('admin').description('Local recovery commands that act on the database directly (no sign-in)');

  admin
    .command('reset-password')
    .description("Reset an Administrator's password when no one can sign in (as ADMIN_RESET_PASSWORD, without a restart)")
    .option('--user <name>', 'the identity (default: ADMIN_USERNAME, else admin)')
    .option('--password-stdin', 'read the new password from stdin (first line) instead of generating one')
    .addHelpText(
      'after',
      '\nThe identity gets the new password (a generated one is printed once), is enabled and holds the built-in\n' +
        'roles; its sessions end, and the reset is audited as identity.password_reset.' +
        LOCAL_HELP,
    )
    .action(async (options: { user?: string; passwordStdin?: boolean }, command: Command) => {
      // Loaded here: the Nest application and its modules are for local commands only (remote ones start faster).
      const { localConfig, resetPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } = await import('../local-database.js');
      let password: string;
      if (options.passwordStdin) {
        password = await readSecretFromStdin('New password');
        if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
          throw new UsageError(`the password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
        }
      } else {
        password = randomSecret(18);
      }
      const name = options.user ?? localConfig().adminUsername;
      const identity = await resetPassword(name, password, !options.passwordStdin);
      if (identity === undefined) throw new CliError(`no identity named "${name}"`, 'NOT_FOUND');
      const generated = options.passwordStdin ? undefined : password;
      if (globalsOf(command).json) return printJson({ id: identity.id, name: identity.name, password: generated ?? null });
      note(`Reset the password of "${identity.name}" (id ${identity.id}): enabled, built-in roles held, its sessions ended.`);
      if (generated !== undefined) {
        note('New password (shown only now):');
        printLine(generated);
      }
    });

  program
    .command('migrate')
    .description('Apply the pending database migrations (the server also applies them at start)')
    .option('--create', 'with no DATABASE_URL: create the embedded database in DATA_DIR when there is none yet')
    .addHelpText(
      'after',
      LOCAL_HELP +
        '\nWithout --create, a DATA_DIR holding no embedded database is refused (NO_DATABASE): run from the wrong folder,\n' +
        'it would otherwise become a new, empty database.',
    )
    .action(async (options: { create?: boolean }, command: Command) => {
      const { migrate } = await import('../local-database.js');
      const result = await migrate({ create: options.create === true });
      if (globalsOf(command).json) return printJson(result);
      if (result.applied.length === 0) printLine(`No pending migrations (${result.database}).`);
      else {
        printLine(`Applied ${result.applied.length} migration(s) to ${result.database}:`);
        for (const name of result.applied) printLine(`  ${name}`);
      }
    });
}
