/** `Bearer <token>`: the scheme in any case, one or more spaces, the token, optional trailing spaces. */
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The one parser of an `Authorization: Bearer` header (the guard, the app-token strategy and the gateway
 * must agree on what a token is). Undefined when the header is absent or is not a Bearer credential.
 */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  return value === undefined ? undefined : BEARER.exec(value)?.[1];
}
