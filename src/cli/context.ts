import type { Command } from 'commander';
import { ApiClient, credentialsFor, DEFAULT_TIMEOUT_SECONDS, serverUrl, type ClientOptions } from './api-client.js';
import { CliError, EXIT } from './errors.js';

/** Options every command takes (declared on the program, accepted before or after the command). */
export interface GlobalOptions {
  url?: string;
  json?: boolean;
  timeout?: number;
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The API client for a remote command: the server from --url / APPTOKEN_URL, credentials from APPTOKEN_TOKEN or `apptoken login`. */
export async function apiFor(command: Command): Promise<ApiClient> {
  const url = serverUrl(globalsOf(command).url);
  return new ApiClient(url, await credentialsFor(url), clientOptions(command));
}

/** --timeout, else APPTOKEN_TIMEOUT (seconds), else the default. */
export function clientOptions(command: Command, env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const option = globalsOf(command).timeout;
  if (option !== undefined) return { timeoutSeconds: option };
  const fromEnv = env.APPTOKEN_TIMEOUT?.trim();
  if (fromEnv === undefined || fromEnv === '') return { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  const seconds = Number(fromEnv);
  if (!/^\d+(\.\d+)?$/.test(fromEnv) || seconds <= 0 || seconds > 86_400) {
    throw new CliError(`APPTOKEN_TIMEOUT "${fromEnv}" is not a number of seconds from 1 to 86400`, 'BAD_TIMEOUT', EXIT.usage);
  }
  return { timeoutSeconds: seconds };
}

/** The API client with no credentials (sign-in, forward-auth checks that carry their own token). */
export function anonymousApiFor(command: Command): ApiClient {
  return new ApiClient(serverUrl(globalsOf(command).url), { kind: 'none' }, clientOptions(command));
}
