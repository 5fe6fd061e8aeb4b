import type { Shape } from './api-client.js';

/**
 * The answers commands read, checked before they are printed: a 200 from something that is not AppToken Server
 * (a proxy's page, another API) is an UNEXPECTED_ANSWER error, never nonsense with exit 0. Only the fields the
 * commands use are checked, so a newer server with more fields still passes.
 */
type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
const isId = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value);
const isOptionalString = (value: unknown) => value === undefined || value === null || typeof value === 'string';

function shape(name: string, test: (body: Fields) => boolean): Shape {
  return { name, test: (body) => isObject(body) && test(body) };
}

export const IDENTITY: Shape = shape('an identity', (b) => isId(b.id) && typeof b.name === 'string' && typeof b.source === 'string' && isStringList(b.roles));

export const MY_IDENTITY: Shape = shape('the signed-in identity', (b) => IDENTITY.test(b) && typeof b.authenticatedBy === 'string');

export const APP_TOKEN: Shape = shape(
  'an app token',
  (b) =>
    isId(b.id) &&
    isObject(b.identity) &&
    typeof b.identity.name === 'string' &&
    isStringList(b.roles) &&
    isOptionalString(b.expiration) &&
    isOptionalString(b.created) &&
    isOptionalString(b.lastUsed) &&
    isOptionalString(b.description),
);

/** Grant and rotate: a token with its value, shown this once. */
export const NEW_APP_TOKEN: Shape = shape('a new app token', (b) => APP_TOKEN.test(b) && typeof b.token === 'string' && b.token !== '');

export const ROLE: Shape = shape('a role', (b) => typeof b.name === 'string' && isOptionalString(b.description));

export const ENDPOINT: Shape = shape('an endpoint rule', (b) => isId(b.id) && typeof b.url === 'string' && isStringList(b.method) && isStringList(b.role) && typeof b.authentication === 'boolean');
