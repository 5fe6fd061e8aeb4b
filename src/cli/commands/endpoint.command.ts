import type { Command } from 'commander';
import type { EndpointDto } from '../../endpoint/dto/endpoint.dto.js';
import { ENDPOINT } from '../answer-shapes.js';
import { apiFor, globalsOf } from '../context.js';
import { printJson, printLine, printTable, type Column } from '../output.js';
import { collectList, httpMethod, positiveInteger, requestPath } from '../parse.js';

const ENDPOINT_COLUMNS: Column<EndpointDto>[] = [
  { header: 'ID', value: (e) => String(e.id) },
  { header: 'URL', value: (e) => e.url, max: 30 },
  { header: 'METHODS', value: (e) => e.method.join(',') || 'any', max: 16 },
  { header: 'AUTH', value: (e) => (e.authentication ? 'yes' : 'no') },
  { header: 'ROLES', value: (e) => e.role.join(',') || '-', max: 200 },
];

export function registerEndpointCommands(program: Command): void {
  const endpoint = program.command('endpoint').description("Manage the custom endpoint rules forward-auth applies (PSU's New-PSUEndpoint; Administrators)");

  endpoint
    .command('list')
    .description('List endpoint rules')
    .action(async (_options: unknown, command: Command) => {
      const api = await apiFor(command);
      const endpoints = await api.all<EndpointDto>('/api/v1/endpoint', {}, ENDPOINT);
      if (globalsOf(command).json) return printJson(endpoints);
      printTable(endpoints, ENDPOINT_COLUMNS, 'No endpoint rules.');
    });

  endpoint
    .command('create')
    .description('Create an endpoint rule')
    .argument('<url>', 'the URL pattern, such as /payroll/* or /users/:id', requestPath)
    .option('--method <method>', 'an HTTP method it applies to, or * for any (repeat, or comma-separate)', (value: string, previous: string[] | undefined) => [
      ...(previous ?? []),
      ...collectList(value, undefined).map(httpMethod),
    ])
    .option('--role <role>', 'a role that may call it (repeat, or comma-separate)', collectList)
    .option('--no-authentication', 'no token needed (a public endpoint)')
    .action(async (url: string, options: { method?: string[]; role?: string[]; authentication: boolean }, command: Command) => {
      const api = await apiFor(command);
      const created = await api.call<EndpointDto>('POST', '/api/v1/endpoint', {
        body: { url, method: options.method, role: options.role, authentication: options.authentication },
        expect: ENDPOINT,
      });
      if (globalsOf(command).json) return printJson(created);
      printLine(`Created endpoint rule ${created.id}: ${created.method.join(',')} ${created.url} -> ${created.authentication ? created.role.join(', ') || 'any valid token' : 'public'}.`);
    });

  endpoint
    .command('delete')
    .description('Delete an endpoint rule')
    .argument('<id>', 'the rule id', positiveInteger)
    .action(async (id: number, _options: unknown, command: Command) => {
      const api = await apiFor(command);
      await api.call('DELETE', `/api/v1/endpoint/${id}`);
      if (globalsOf(command).json) return printJson({ id, deleted: true });
      printLine(`Deleted endpoint rule ${id}.`);
    });
}
