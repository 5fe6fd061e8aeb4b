import type { Command } from 'commander';
import type { IdentityDto, MyIdentityDto } from '../../identity/dto/identity.dto.js';
import { ApiClient, errorFromBody, serverUrl, type ApiResponse } from '../api-client.js';
import { ApiError, UsageError } from '../errors.js';
import { IDENTITY, MY_IDENTITY } from '../answer-shapes.js';
import { anonymousApiFor, apiFor, clientOptions, globalsOf } from '../context.js';
import { note, printFields, printJson, printLine } from '../output.js';
import { ask, stdinIsTerminal } from '../prompt.js';
import { deleteSession, readSession, saveSession } from '../session-store.js';

/** The session cookie's `name=value` from the sign-in answer. */
function sessionCookieOf(headers: Headers): string | undefined {
  for (const line of headers.getSetCookie()) {
    const pair = line.split(';')[0].trim();
    if (/^(__Host-)?apptoken_session=./.test(pair)) return pair;
  }
  return undefined;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('Sign in with a user name and password and keep the session for later commands (per server)')
    .option('-u, --username <name>', 'the user name (asked for when omitted)')
    .addHelpText(
      'after',
      '\nThe password is asked for without echo. When stdin is not a terminal, it is read from stdin\n' +
        "(its first line), so scripts can pipe it: printf '%s\\n' \"$PW\" | apptoken login -u admin\n" +
        'The session cookie is kept in $XDG_CONFIG_HOME/apptoken (else ~/.config/apptoken), mode 0600.',
    )
    .action(async (options: { username?: string }, command: Command) => {
      const api = anonymousApiFor(command);
      if (options.username === undefined && !stdinIsTerminal()) throw new UsageError('--username is needed when stdin is not a terminal (the password is read from stdin)');
      const username = options.username ?? (await ask('User name: '));
      if (username.trim() === '') throw new UsageError('the user name is empty');
      const password = await ask(`Password for ${username}: `, { secret: true });
      let response: ApiResponse<IdentityDto>;
      try {
        response = await api.request<IdentityDto>('POST', '/api/v1/signin', { body: { username, password }, expect: IDENTITY });
      } catch (error) {
        // The sign-in's own refusal (wrong password, disabled, throttled), not the "run apptoken login" hint.
        if (error instanceof ApiError) throw errorFromBody(error.status, error.body);
        throw error;
      }
      const cookie = sessionCookieOf(response.headers);
      if (cookie === undefined) throw new UsageError('the server signed in but set no session cookie (is APPTOKEN_URL pointing at AppToken Server?)');
      const file = await saveSession({ url: api.baseUrl, cookie, username: response.body.name, savedAt: new Date().toISOString() });
      if (globalsOf(command).json) printJson(response.body);
      else printLine(`Signed in to ${api.baseUrl} as ${response.body.name} (${response.body.roles.join(', ') || 'no roles'}).`);
      note(`Session kept in ${file}`);
    });

  program
    .command('logout')
    .description('Sign out on the server and delete the kept session')
    .action(async (_options: unknown, command: Command) => {
      const url = serverUrl(globalsOf(command).url);
      const session = await readSession(url);
      if (session === undefined) {
        note(`Not signed in to ${url}.`);
        return;
      }
      // An expired session is already over on the server: the file goes either way.
      const api = new ApiClient(url, { kind: 'session', cookie: session.cookie }, clientOptions(command));
      const answer = await api.request('POST', '/api/v1/signout', { raw: true });
      await deleteSession(url);
      if (answer.status >= 300 && answer.status !== 401) throw api.apiError(answer.status, answer.body);
      printLine(`Signed out of ${url}.`);
    });

  program
    .command('whoami')
    .description('Who the current credentials (APPTOKEN_TOKEN, or the login session) sign in as')
    .action(async (_options: unknown, command: Command) => {
      const api = await apiFor(command);
      const me = await api.call<MyIdentityDto>('GET', '/api/v1/identity/my', { expect: MY_IDENTITY });
      if (globalsOf(command).json) return printJson(me);
      const fields: Array<[string, string]> = [
        ['Name', me.name],
        ['Id', String(me.id)],
        ['Source', me.source],
        ['Roles', me.roles.join(', ') || '(none)'],
        ['Signed in by', me.authenticatedBy === 'token' ? `app token ${me.tokenId ?? ''}`.trim() : me.authenticatedBy],
        ['Server', api.baseUrl],
      ];
      printFields(fields);
    });
}
