import type { Command } from 'commander';
import { ApiClient, credentialsFor, serverUrl } from './api-client.js';

/** Options every command takes (declared on the program, accepted before or after the command). */
export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The API client for a remote command: the server from --url / APPTOKEN_URL, credentials from APPTOKEN_TOKEN or `apptoken login`. */
export async function apiFor(command: Command): Promise<ApiClient> {
  const url = serverUrl(globalsOf(command).url);
  return new ApiClient(url, await credentialsFor(url));
}

/** The API client with no credentials (sign-in, forward-auth checks that carry their own token). */
export function anonymousApiFor(command: Command): ApiClient {
  return new ApiClient(serverUrl(globalsOf(command).url), { kind: 'none' });
}
