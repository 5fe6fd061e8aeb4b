import { HttpStatus } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS } from './request-target.js';

/** The request a gateway asks about: its method, its raw URI, and every method an upstream may run it as. */
export interface OriginalRequest {
  method: string;
  uri: string;
  /** The method first, then the methods named by override headers or a POST's `_method` query parameter. */
  methods: string[];
}

export type Headers = Record<string, string | string[] | undefined>;

const METHOD = /^[A-Za-z]{1,16}$/;

function first(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value a header or query parameter gives, split on commas (node joins repeated headers with ", "). */
function values(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim());
}

/**
 * A `_method` parameter by every spelling an upstream may read as one: PHP turns " ", "." and "[" in a
 * parameter name into "_" (so `.method`, `[method`, `_method[]` all reach Laravel as `_method`), and some
 * parsers split on ";" as well as "&". A plain `method` parameter (a payment method, say) is not one.
 */
const METHOD_PARAMETER = /^[\s._[-]+method(\[[^\]]*\]?)?$/i;

function methodParameters(query: string): string[] {
  const found: string[] = [];
  for (const pair of query.split(/[&;]/)) {
    const equals = pair.indexOf('=');
    const [name, value] = equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    if (METHOD_PARAMETER.test(decodeQueryPart(name))) found.push(...values(decodeQueryPart(value)));
  }
  return found;
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: PHP keeps such a name as written, which then is not "_method".
    return part;
  }
}

/**
 * Methods an upstream may run the request as instead of its own: the override headers (Express's
 * method-override, ASP.NET, Symfony, ...) that a gateway passes on from the client, and for a POST the
 * `_method` query parameter (Laravel, Symfony). Each is judged as well as the request's own method. A
 * `_method` in a form body cannot be seen by forward-auth: the README says to strip or disable it upstream.
 */
function overrideMethods(method: string, uri: string, headers: Headers): string[] {
  const named = METHOD_OVERRIDE_HEADERS.flatMap((name) => values(headers[name]));
  if (method === 'POST') {
    const query = uri.indexOf('?');
    if (query !== -1) named.push(...methodParameters(uri.slice(query + 1)));
  }
  for (const name of named) {
    if (!METHOD.test(name)) throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'A method-override header or _method parameter names no HTTP method');
  }
  return named.map((name) => name.toUpperCase());
}

/**
 * The original method and URI, from exactly one header family: nginx's X-Original-* (set by the shipped
 * template) or Traefik's X-Forwarded-* (set by Traefik). Both at once means a client added the other
 * family itself (Traefik passes client headers through), so the request is refused rather than judged
 * by a URI the client chose. A URI without its method is refused too: defaulting it would open GET rules.
 * Undefined when neither family is present (the caller asks about the token alone).
 */
export function originalRequest(headers: Headers): OriginalRequest | undefined {
  const nginx = { uri: first(headers, 'x-original-uri'), method: first(headers, 'x-original-method') };
  const traefik = { uri: first(headers, 'x-forwarded-uri'), method: first(headers, 'x-forwarded-method') };
  const hasNginx = nginx.uri !== undefined || nginx.method !== undefined;
  const hasTraefik = traefik.uri !== undefined || traefik.method !== undefined;
  if (hasNginx && hasTraefik) {
    throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'Send the original request as X-Original-URI/-Method (nginx) or X-Forwarded-Uri/-Method (Traefik), not both');
  }
  const chosen = hasNginx ? nginx : hasTraefik ? traefik : undefined;
  if (!chosen) return undefined;
  for (const name of PATH_OVERRIDE_HEADERS) {
    if (headers[name] !== undefined) throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, `Refused: the request carries ${name}, by which some servers take the path from the client`);
  }
  if (chosen.uri === undefined || chosen.method === undefined || !METHOD.test(chosen.method)) {
    throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'The original method and URI must come together (X-Original-Method with X-Original-URI, or X-Forwarded-Method with X-Forwarded-Uri)');
  }
  const method = chosen.method.toUpperCase();
  const overrides = overrideMethods(method, chosen.uri, headers);
  return { method, uri: chosen.uri, methods: [...new Set([method, ...overrides])] };
}
