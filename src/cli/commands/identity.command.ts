import type { Command } from 'commander';
import type { IdentityDto } from '../../identity/dto/identity.dto.js';
import type { ApiClient } from '../api-client.js';
import { IDENTITY } from '../answer-shapes.js';
import { apiFor, globalsOf } from '../context.js';
import { CliError } from '../errors.js';
import { printJson, printLine, printTable, shortDate, type Column } from '../output.js';
import { collectList } from '../parse.js';
import { readSecretFromStdin } from '../prompt.js';

const IDENTITY_COLUMNS: Column<IdentityDto>[] = [
  { header: 'ID', value: (i) => String(i.id) },
  { header: 'NAME', value: (i) => i.name, max: 24 },
  { header: 'SOURCE', value: (i) => i.source },
  { header: 'STATE', value: (i) => (i.disabled ? 'disabled' : 'enabled') },
  { header: 'CREATED', value: (i) => shortDate(i.created).slice(0, 10) },
  { header: 'ROLES', value: (i) => i.roles.join(',') || '-', max: 200 },
];

/** An identity by id (digits) or name (case-insensitive, exact). */
export async function findIdentity(api: ApiClient, ref: string): Promise<IdentityDto> {
  if (/^\d+$/.test(ref)) return api.call<IdentityDto>('GET', `/api/v1/identity/${ref}`, { expect: IDENTITY });
  const candidates = await api.all<IdentityDto>('/api/v1/identity', { search: ref }, IDENTITY);
  const found = candidates.find((identity) => identity.name.toLowerCase() === ref.toLowerCase());
  if (!found) throw new CliError(`no identity named "${ref}"`, 'NOT_FOUND');
  return found;
}

function sameRole(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function registerIdentityCommands(program: Command): void {
  const identity = program.command('identity').description('Manage identities (Administrators; list: anyone signed in)');

  identity
    .command('list')
    .description('List identities')
    .option('--search <text>', 'only names containing this text')
    .action(async (options: { search?: string }, command: Command) => {
      const api = await apiFor(command);
      const identities = await api.all<IdentityDto>('/api/v1/identity', { search: options.search }, IDENTITY);
      if (globalsOf(command).json) return printJson(identities);
      printTable(identities, IDENTITY_COLUMNS, 'No identities match.');
    });

  identity
    .command('create')
    .description('Create an identity: a local account (with --password-stdin) or a service identity (no password)')
    .argument('<name>', 'the identity name')
    .option('--role <role>', 'a role to give (repeat, or comma-separate)', collectList)
    .option('--service', 'a service identity: no password, tokens only')
    .option('--password-stdin', 'read its password from stdin (first line); never put a password on the command line')
    .option('--disabled', 'create it disabled')
    .action(async (name: string, options: { role?: string[]; service?: boolean; passwordStdin?: boolean; disabled?: boolean }, command: Command) => {
      const api = await apiFor(command);
      const password = options.passwordStdin ? await readSecretFromStdin('Password') : undefined;
      const created = await api.call<IdentityDto>('POST', '/api/v1/identity', {
        body: { name, roles: options.role, password, source: options.service ? 'service' : undefined, disabled: options.disabled },
        expect: IDENTITY,
      });
      if (globalsOf(command).json) return printJson(created);
      printLine(`Created identity ${created.id} "${created.name}" (${created.source}; roles: ${created.roles.join(', ') || 'none'}).`);
    });

  const setDisabled = (disabled: boolean) => async (ref: string, _options: unknown, command: Command) => {
    const api = await apiFor(command);
    const found = await findIdentity(api, ref);
    const updated = await api.call<IdentityDto>('PATCH', `/api/v1/identity/${found.id}`, { body: { disabled }, expect: IDENTITY });
    if (globalsOf(command).json) return printJson(updated);
    printLine(`${disabled ? 'Disabled' : 'Enabled'} identity ${updated.id} "${updated.name}".`);
  };
  identity
    .command('disable')
    .description('Disable an identity: its sessions and tokens stop working on their next request')
    .argument('<identity>', 'name or id')
    .action(setDisabled(true));
  identity.command('enable').description('Enable a disabled identity').argument('<identity>', 'name or id').action(setDisabled(false));

  identity
    .command('delete')
    .description('Delete an identity with its sessions and tokens')
    .argument('<identity>', 'name or id')
    .action(async (ref: string, _options: unknown, command: Command) => {
      const api = await apiFor(command);
      const found = await findIdentity(api, ref);
      await api.call('DELETE', `/api/v1/identity/${found.id}`);
      if (globalsOf(command).json) return printJson({ id: found.id, name: found.name, deleted: true });
      printLine(`Deleted identity ${found.id} "${found.name}".`);
    });

  // Read, then write the whole role list: the API's identity update takes the full set.
  const changeRoles = (grant: boolean) => async (ref: string, roles: string[], _options: unknown, command: Command) => {
    const api = await apiFor(command);
    const found = await findIdentity(api, ref);
    const wanted = roles.flatMap((role) => role.split(',')).map((role) => role.trim()).filter(Boolean);
    const next = grant
      ? [...found.roles, ...wanted.filter((role) => !found.roles.some((held) => sameRole(held, role)))]
      : found.roles.filter((held) => !wanted.some((role) => sameRole(held, role)));
    const updated = await api.call<IdentityDto>('PATCH', `/api/v1/identity/${found.id}`, { body: { roles: next }, expect: IDENTITY });
    if (globalsOf(command).json) return printJson(updated);
    printLine(`Identity "${updated.name}" now holds: ${updated.roles.join(', ') || 'no roles'}.`);
  };
  identity
    .command('grant-role')
    .description('Give an identity one or more roles')
    .argument('<identity>', 'name or id')
    .argument('<role...>', 'role names')
    .action(changeRoles(true));
  identity
    .command('revoke-role')
    .description('Take one or more roles from an identity (its tokens lose them at once)')
    .argument('<identity>', 'name or id')
    .argument('<role...>', 'role names')
    .action(changeRoles(false));
}
