import type { Command } from 'commander';
import { errorFromBody } from '../api-client.js';
import { anonymousApiFor, globalsOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { collectList, httpMethod, requestPath } from '../parse.js';
import { readSecretFromStdin } from '../prompt.js';

export interface CheckResult {
  allow: boolean;
  status: number;
  code?: string;
  reason?: string;
  identity?: { id: number; name: string; roles: string[] };
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Ask forward-auth what it would answer a gateway for a request (GET /api/v1/apptoken/verify, as nginx calls it)')
    .option('--token <token>', 'the app token the request carries ("-": read it from stdin); omitted: a request without one')
    .option('--method <method>', 'the original request\'s method', httpMethod, 'GET')
    .option('--path <path>', 'the original request\'s path (and query), judged by the endpoint rules', requestPath)
    .option('--role <role>', 'instead of --path: accept a token holding one of these roles (?role=)', collectList)
    .addHelpText('after', '\nExit code: 0 allowed, 1 denied (the status and the reason are printed), 2 usage.\nExample: printf \'%s\\n\' "$TOKEN" | apptoken check --token - --method GET --path /payroll/2026\n' +
        '(from stdin: a token given as an argument is kept in shell history and shown to every local user by ps)')
    .action(async (options: { token?: string; method: string; path?: string; role?: string[] }, command: Command) => {
      if (options.path !== undefined && options.role !== undefined) throw new UsageError('give --path or --role, not both');
      const token = options.token === '-' ? (await readSecretFromStdin('Token')).trim() : options.token;
      const api = anonymousApiFor(command);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (options.path !== undefined) {
        headers['x-original-uri'] = options.path;
        headers['x-original-method'] = options.method;
      }
      const response = await api.request('GET', '/api/v1/apptoken/verify', { headers, query: { role: options.role }, raw: true });
      const result: CheckResult = { allow: response.status === 200, status: response.status };
      if (result.allow) {
        // Forward-auth allows with an empty 200 (identity headers when a token was judged): a 200 with a body is a
        // page from something else, and must not read as "allow".
        if (response.body !== undefined) throw api.unexpected('a 200 answer with a body; forward-auth allows with an empty one');
        const name = response.headers.get('x-identity-name');
        if (name !== null) {
          const roles = response.headers.get('x-identity-roles') ?? '';
          const id = response.headers.get('x-identity-id') ?? '';
          if (!/^\d+$/.test(id)) throw api.unexpected('an allow without a numeric X-Identity-Id');
          result.identity = { id: Number(id), name, roles: roles === '' ? [] : roles.split(', ') };
        }
      } else {
        const error = errorFromBody(response.status, response.body);
        if (response.status >= 500) throw error;
        // A refusal is the API's error body with its code; anything else (a 404 page, a 2xx other than 200) is not forward-auth.
        const body = response.body as { code?: unknown } | undefined;
        if (response.status < 400 || typeof body !== 'object' || body === null || typeof body.code !== 'string') {
          throw api.unexpected(`a ${response.status} answer without the API's error code`);
        }
        result.code = error.code;
        result.reason = error.message;
      }
      if (globalsOf(command).json) printJson(result);
      else if (result.allow) {
        printLine(`allow ${result.status}${result.identity ? `: ${result.identity.name} (${result.identity.roles.join(', ') || 'no roles'})` : ': no token needed'}`);
      } else {
        printLine(`deny ${result.status} ${result.code}: ${result.reason}`);
      }
      if (!result.allow) throw new CliError('', undefined, 1);
    });
}
