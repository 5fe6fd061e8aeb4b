import type { Command } from 'commander';
import type { RoleDto } from '../../role/dto/role.dto.js';
import { listOf } from '../api-client.js';
import { ROLE } from '../answer-shapes.js';
import { apiFor, globalsOf } from '../context.js';
import { printJson, printLine, printTable, type Column } from '../output.js';

const ROLE_COLUMNS: Column<RoleDto>[] = [
  { header: 'NAME', value: (r) => r.name, max: 24 },
  { header: 'BUILT-IN', value: (r) => (r.builtin ? 'yes' : 'no') },
  { header: 'DESCRIPTION', value: (r) => r.description, max: 200 },
];

export function registerRoleCommands(program: Command): void {
  const role = program.command('role').description('Manage roles (Administrators; list: anyone signed in)');

  role
    .command('list')
    .description('List the built-in and custom roles')
    .action(async (_options: unknown, command: Command) => {
      const api = await apiFor(command);
      const roles = await api.call<RoleDto[]>('GET', '/api/v1/role', { expect: listOf(ROLE) });
      if (globalsOf(command).json) return printJson(roles);
      printTable(roles, ROLE_COLUMNS);
    });

  role
    .command('create')
    .description('Create a custom role')
    .argument('<name>', 'the role name')
    .option('--description <text>', 'what the role is for')
    .action(async (name: string, options: { description?: string }, command: Command) => {
      const api = await apiFor(command);
      const created = await api.call<RoleDto>('POST', '/api/v1/role', { body: { name, description: options.description }, expect: ROLE });
      if (globalsOf(command).json) return printJson(created);
      printLine(`Created role "${created.name}".`);
    });

  role
    .command('delete')
    .description('Delete a custom role; identities and tokens lose it at once')
    .argument('<name>', 'the role name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const api = await apiFor(command);
      await api.call('DELETE', `/api/v1/role/${encodeURIComponent(name)}`);
      if (globalsOf(command).json) return printJson({ name, deleted: true });
      printLine(`Deleted role "${name}".`);
    });
}
