/**
 * The path of a gateway's original request, read exactly as the upstream will receive it.
 *
 * nginx (`proxy_pass` without a URI part) and Traefik forward the raw request target, and upstreams differ
 * in what they make of it: node:http and fastify serve `/a/../b` as given, URL parsers resolve it, some
 * collapse `//`, some decode `%2e` or `%25` twice. So nothing is normalised here: a path that is not
 * already in the one form every upstream reads alike is refused, and only a canonical path is matched.
 */

export type PathJudgement = { segments: string[] } | { problem: string };

/** Characters RFC 3986 allows raw in a path (pchar and "/"), less ";" (Tomcat drops ";params"). */
const RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*+,=:@%/]*$/;
/**
 * Decoded characters refused in a segment: "/" (WSGI decodes %2F), "\\" (IIS and ASP.NET read it as "/"),
 * ";", "?" and "#" (re-parsed by an upstream that decodes first), "%" (double decoding), controls.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
const UNSAFE_DECODED = /[/\\;?#%\x00-\x1f\x7f]/;

/**
 * A decoded segment that upstreams read differently from one another (also refused in rule patterns):
 * the characters above, a trailing "." or space (Windows and IIS drop them), and any compatibility
 * character, whose NFKC form (applied by some upstreams) is another character ("．．", "／", "ａdmin").
 */
export function unsafeSegment(decoded: string): boolean {
  const unsafe = (segment: string) => UNSAFE_DECODED.test(segment) || (/[.\s]$/u.test(segment) && segment !== '.' && segment !== '..');
  if (unsafe(decoded)) return true;
  // A compatibility character ("ａ", "ﬁ", "．") reads as another letter to an upstream that applies NFKC,
  // and so could reach a path whose rule it never met: refused, as in URLs they have no business.
  return decoded.normalize('NFKC') !== decoded.normalize('NFC');
}

function decode(segment: string): string | null {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * The lower-cased, percent-decoded segments of a canonical request path (the query dropped), or why the
 * path is refused. A single trailing "/" is allowed and judged like the path without it, by the most
 * specific rule covering it (see RouteMatcher).
 */
export function judgeablePath(uri: string): PathJudgement {
  let path = uri;
  const query = path.indexOf('?');
  if (query !== -1) path = path.slice(0, query);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    // An absolute-form request target: the upstream reads the path after the authority.
    const slash = path.indexOf('/', path.indexOf('//') + 2);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  if (!path.startsWith('/')) return { problem: 'the original URI must be a path starting with "/"' };
  if (path.length > 8192) return { problem: 'the original URI is longer than 8192 characters' };
  if (!RAW_PATH.test(path)) {
    return { problem: 'the original path holds a character that must be percent-encoded, or one that servers read differently ("\\", ";", "#", spaces, controls, non-ASCII)' };
  }
  if (path === '/') return { segments: [] };
  const raw = path.slice(1).split('/');
  if (raw[raw.length - 1] === '') raw.pop();
  const segments: string[] = [];
  for (const part of raw) {
    if (part === '') return { problem: 'the original path has an empty segment ("//"); servers read it differently' };
    const segment = decode(part);
    if (segment === null) return { problem: 'the original path holds an invalid percent-encoding' };
    if (segment === '.' || segment === '..') {
      return { problem: 'the original path has a "." or ".." segment (raw or percent-encoded); send the path it resolves to' };
    }
    if (unsafeSegment(segment)) {
      return { problem: 'the original path encodes "/", "\\", ";", "?", "#", "%" or a control character, or a segment ends with "." (IIS drops it)' };
    }
    segments.push(segment.toLowerCase());
  }
  return { segments };
}

/** The method-override headers that frameworks honour (Express method-override, ASP.NET, Rails, Symfony, ...). */
export const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

/**
 * Headers by which some upstreams take the path from the client instead of the request line (IIS URL
 * Rewrite and Symfony read X-Original-URL / X-Rewrite-URL; others honour X-Forwarded-Prefix or the
 * forward-auth headers themselves). The verify route refuses a request carrying one of the first two, and
 * the shipped gateway examples strip them all towards the upstream.
 */
export const PATH_OVERRIDE_HEADERS = ['x-original-url', 'x-rewrite-url'] as const;
