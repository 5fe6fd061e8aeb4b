import { Command, CommanderError } from 'commander';
import { registerAdminAndLocalCommands } from './commands/admin.command.js';
import { registerAuthCommands } from './commands/auth.command.js';
import { registerCheckCommand } from './commands/check.command.js';
import { registerEndpointCommands } from './commands/endpoint.command.js';
import { registerIdentityCommands } from './commands/identity.command.js';
import { registerImportPsuCommand } from './commands/import-psu.command.js';
import { registerRoleCommands } from './commands/role.command.js';
import { registerTokenCommands } from './commands/token.command.js';
import { SERVER_VERSION } from '../health/server-version.js';
import { DEFAULT_TIMEOUT_SECONDS } from './api-client.js';
import { CliError, EXIT } from './errors.js';
import { timeoutSeconds } from './parse.js';
import { terminalSafe } from './output.js';

/** The whole command tree; every command gets --help, and usage mistakes exit 2 instead of commander's 1. */
export function buildProgram(): Command {
  const program = new Command('apptoken')
    .description('AppToken Server from the command line: tokens, identities, roles, endpoint rules, forward-auth checks, local recovery')
    .version(SERVER_VERSION, '-V, --version')
    .option('--url <url>', 'the server (default: $APPTOKEN_URL, else http://localhost:5000)')
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--timeout <seconds>', `give up on a request after this many seconds (default: $APPTOKEN_TIMEOUT, else ${DEFAULT_TIMEOUT_SECONDS})`, timeoutSeconds)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      '\nCredentials: $APPTOKEN_TOKEN (an app token, sent as Bearer), else the session kept by "apptoken login".\n' +
        'Exit codes: 0 done, 1 refused or failed (the API\'s code and message on stderr), 2 usage.',
    );
  registerAuthCommands(program);
  registerTokenCommands(program);
  registerIdentityCommands(program);
  registerRoleCommands(program);
  registerEndpointCommands(program);
  registerCheckCommand(program);
  registerImportPsuCommand(program);
  registerAdminAndLocalCommands(program);
  return program;
}

/** Runs one command line; resolves to its exit code. */
export async function run(argv: readonly string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message or the help: help asked for (--help, help CMD, --version) exits 0,
      // help shown because a command was missing, and every other mistake, exit 2.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      if (error.message !== '') process.stderr.write(`${terminalSafe(`error: ${error.code ? `${error.code}: ` : ''}${error.message}`)}\n`);
      return error.exitCode;
    }
    process.stderr.write(`${terminalSafe(`error: ${error instanceof Error ? error.message : String(error)}`)}\n`);
    return EXIT.failed;
  }
}
