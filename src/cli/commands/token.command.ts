import { Option, type Command } from 'commander';
import type { AppTokenDto } from '../../app-token/dto/app-token.dto.js';
import { APP_TOKEN, NEW_APP_TOKEN } from '../answer-shapes.js';
import { apiFor, globalsOf } from '../context.js';
import { printFields, printJson, printLine, printTable, shortDate, type Column } from '../output.js';
import { collectList, filterDays, graceSeconds, isoDate, LIMITS, lifespanDays, positiveInteger } from '../parse.js';

/** Fits 80 columns: the description gets what the others leave (16 characters or more). */
export const TOKEN_COLUMNS: Column<AppTokenDto>[] = [
  { header: 'ID', value: (t) => String(t.id), max: 7 },
  { header: 'IDENTITY', value: (t) => t.identity.name, max: 14 },
  { header: 'ROLES', value: (t) => t.roles.join(','), max: 14 },
  { header: 'EXPIRES', value: expiresCell },
  { header: 'LAST USED', value: (t) => shortDate(t.lastUsed, 'never').slice(0, 10) },
  { header: 'DESCRIPTION', value: (t) => t.description || '-', max: 200 },
];

/** When it expires (a date, or never), or why it no longer works (revoked, expired). */
function expiresCell(token: AppTokenDto): string {
  if (token.revoked) return 'revoked';
  if (token.expiration !== null && Date.parse(token.expiration) <= Date.now()) return 'expired';
  return shortDate(token.expiration, 'never').slice(0, 10);
}

/** A token's details, with its value when the answer carries one (grant, rotate: the only time it is shown). */
function printToken(token: AppTokenDto): void {
  const fields: Array<[string, string]> = [
    ['Id', String(token.id)],
    ['Identity', token.identity.name],
    ['Roles', token.roles.join(', ') || '(none)'],
    ['Created', shortDate(token.created)],
    ['Expires', shortDate(token.expiration, 'never')],
  ];
  if (token.description) fields.push(['Description', token.description]);
  if (token.token) fields.push(['Token', token.token]);
  printFields(fields);
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Grant, list, revoke, rotate and delete app tokens');

  token
    .command('grant')
    .description('Grant an app token (to yourself, or as an Administrator to another identity) and print it once')
    .option('--identity <name>', 'whom the token is for (Administrators); default: yourself')
    .option('--role <role>', 'a role to put in the token (repeat, or comma-separate); default: all the identity\'s roles', collectList)
    .addOption(new Option('--days <n>', `lifetime in days (1 to ${LIMITS.lifespanDays})`).argParser(lifespanDays).conflicts(['never', 'expires']))
    .addOption(new Option('--never', 'never expires (when the server allows it)').conflicts(['expires']))
    .addOption(new Option('--expires <date>', 'expires at this ISO 8601 date or date-time (in the future)').argParser((value: string) => isoDate(value)))
    .option('--description <text>', 'what the token is for')
    .option('-q, --quiet', 'print only the token, for TOKEN=$(apptoken token grant -q)')
    .addHelpText('after', '\nWith none of --days, --never or --expires the server\'s default lifetime applies (365 days unless configured).')
    .action(async (options: { identity?: string; role?: string[]; days?: number; never?: boolean; expires?: string; description?: string; quiet?: boolean }, command: Command) => {
      const api = await apiFor(command);
      const granted = await api.call<AppTokenDto>('POST', '/api/v1/apptoken/grant', {
        body: {
          identity: options.identity === undefined ? undefined : { name: options.identity },
          roles: options.role,
          lifespanDays: options.days,
          expiration: options.never ? 'never' : options.expires,
          description: options.description,
        },
        expect: NEW_APP_TOKEN,
      });
      if (options.quiet) return printLine(granted.token ?? '');
      if (globalsOf(command).json) return printJson(granted);
      printToken(granted);
    });

  token
    .command('list')
    .description('List app tokens (all of them for Administrators, your own otherwise), every page')
    .option('--identity <name>', "only this identity's tokens (name or id)")
    .option('--expiring <days>', `only tokens that expire within this many days, 1 to ${LIMITS.filterDays} (and have not yet)`, filterDays)
    .option('--unused <days>', `only tokens not used for more than this many days, 1 to ${LIMITS.filterDays} (never used: counted from creation)`, filterDays)
    .option('--revoked', 'only revoked tokens')
    .option('--no-revoked', 'leave revoked tokens out')
    .option('--search <text>', 'text in the description or the identity name')
    .action(async (options: { identity?: string; expiring?: number; unused?: number; revoked?: boolean; search?: string }, command: Command) => {
      const api = await apiFor(command);
      const tokens = await api.all<AppTokenDto>('/api/v1/apptoken', {
        identity: options.identity,
        expiresWithinDays: options.expiring,
        unusedForDays: options.unused,
        revoked: options.revoked,
        search: options.search,
      }, APP_TOKEN);
      if (globalsOf(command).json) return printJson(tokens);
      printTable(tokens, TOKEN_COLUMNS, 'No tokens match.');
    });

  token
    .command('revoke')
    .description('Revoke a token now (idempotent); it is refused everywhere on its next use')
    .argument('<id>', 'the token id', positiveInteger)
    .action(async (id: number, _options: unknown, command: Command) => {
      const api = await apiFor(command);
      const revoked = await api.call<AppTokenDto>('POST', `/api/v1/apptoken/${id}/revoke`, { expect: APP_TOKEN });
      if (globalsOf(command).json) return printJson(revoked);
      printLine(`Revoked token ${revoked.id} (${revoked.identity.name}).`);
    });

  token
    .command('rotate')
    .description('Replace a token with a new one (same identity, roles and lifetime) and print the new token')
    .argument('<id>', 'the token id', positiveInteger)
    .option('--grace <seconds>', `keep the old token working this many seconds, 0 to ${LIMITS.graceSeconds} (default: revoked at once)`, graceSeconds)
    .option('-q, --quiet', 'print only the new token')
    .action(async (id: number, options: { grace?: number; quiet?: boolean }, command: Command) => {
      const api = await apiFor(command);
      const rotated = await api.call<AppTokenDto>('POST', `/api/v1/apptoken/${id}/rotate`, { body: options.grace === undefined ? {} : { graceSeconds: options.grace }, expect: NEW_APP_TOKEN });
      if (options.quiet) return printLine(rotated.token ?? '');
      if (globalsOf(command).json) return printJson(rotated);
      printLine(`Rotated token ${id}: the new token is ${rotated.id}${options.grace ? `; the old one works for ${options.grace} more seconds` : '; the old one is revoked'}.`);
      printToken(rotated);
    });

  token
    .command('delete')
    .description('Revoke a token and remove it')
    .argument('<id>', 'the token id', positiveInteger)
    .action(async (id: number, _options: unknown, command: Command) => {
      const api = await apiFor(command);
      await api.call('DELETE', `/api/v1/apptoken/${id}`);
      if (globalsOf(command).json) return printJson({ id, deleted: true });
      printLine(`Deleted token ${id}.`);
    });
}
