/**
 * Matching a request's method and path to the most specific endpoint rule, in time that depends on
 * the path's depth, not on the number of rules: the rules are compiled into a segment trie.
 *
 * Patterns: `/users/:id` (`:name` is exactly one segment), `/payroll/*` (`*`, last only, is the rest of the
 * path, none included: `/payroll` and `/payroll/` are covered too), literal segments otherwise, compared case-insensitively (as PSU's ASP.NET routing does).
 * The most specific pattern that matches the path decides, segment by segment from the left (a literal
 * beats a parameter, which beats a wildcard); if it has no rule for the method, the request is refused:
 * a broader pattern never covers for a method the specific one leaves out.
 */

import { unsafeSegment } from '../gateway/request-target.js';

export const ANY_METHOD = '*';
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface EndpointRule {
  id: number;
  url: string;
  /** Upper-case methods; empty: any method. */
  methods: readonly string[];
  authentication: boolean;
  /** Role names; a token needs one of them. Empty (with authentication): any valid token. */
  roles: readonly string[];
}

export type PatternSegment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'wildcard' };

const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/;

/** The segments of a rule's URL pattern, or a message saying what is wrong with it. */
export function parsePattern(url: string): PatternSegment[] | string {
  if (!url.startsWith('/')) return 'url must start with "/"';
  if (url.length > 1024) return 'url must be at most 1024 characters';
  if (/[?#\s]/.test(url)) return 'url is a path pattern: no query, fragment or spaces';
  const raw = url.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const segments: PatternSegment[] = [];
  for (const [index, segment] of raw.entries()) {
    if (segment === '') return 'url must not contain empty segments ("//")';
    if (segment === '.' || segment === '..') return 'url must not contain "." or ".." segments';
    if (segment === '*') {
      if (index !== raw.length - 1) return '"*" may only be the last segment (it matches the rest of the path)';
      segments.push({ kind: 'wildcard' });
    } else if (segment.startsWith(':')) {
      if (!PARAM.test(segment)) return `"${segment}" is not a parameter name (letters, digits and _ after ":")`;
      segments.push({ kind: 'param', name: segment.slice(1) });
    } else if (segment.includes('*')) {
      return '"*" must be a whole segment, as in /payroll/*';
    } else {
      const decoded = decodeSegment(segment);
      if (decoded === null || unsafeSegment(decoded)) return `"${segment}" is not a plain path segment`;
      segments.push({ kind: 'literal', value: decoded.toLowerCase() });
    }
  }
  return segments;
}

/** The pattern with parameter names erased: two rules with the same shape cover the same paths. */
export function patternShape(segments: readonly PatternSegment[]): string {
  return '/' + segments.map((s) => (s.kind === 'literal' ? encodeURIComponent(s.value) : s.kind === 'param' ? ':' : '*')).join('/');
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

interface Terminal {
  byMethod: Map<string, EndpointRule>;
  any?: EndpointRule;
}

class Node {
  readonly literals = new Map<string, Node>();
  param?: Node;
  /** Rules ending in `*` below this node. */
  wildcard?: Terminal;
  /** Rules ending exactly here. */
  terminal?: Terminal;
}

function addTo(terminal: Terminal | undefined, rule: EndpointRule): Terminal {
  const target: Terminal = terminal ?? { byMethod: new Map() };
  if (rule.methods.length === 0) target.any ??= rule;
  for (const method of rule.methods) if (!target.byMethod.has(method)) target.byMethod.set(method, rule);
  return target;
}

function pick(terminal: Terminal | undefined, method: string): EndpointRule | undefined {
  if (!terminal) return undefined;
  // HEAD is a GET without a body: a GET rule covers it unless a HEAD rule says otherwise.
  return terminal.byMethod.get(method) ?? (method === 'HEAD' ? terminal.byMethod.get('GET') : undefined) ?? terminal.any;
}

export class RouteMatcher {
  private readonly root = new Node();
  readonly size: number;

  constructor(rules: readonly EndpointRule[]) {
    this.size = rules.length;
    // Lower ids first: of two identical rules (refused at creation, but possible by direct SQL) the older wins.
    for (const rule of [...rules].sort((a, b) => a.id - b.id)) {
      const segments = parsePattern(rule.url);
      if (typeof segments === 'string') continue;
      let node = this.root;
      for (const segment of segments) {
        if (segment.kind === 'wildcard') break;
        if (segment.kind === 'literal') {
          let next = node.literals.get(segment.value);
          if (!next) node.literals.set(segment.value, (next = new Node()));
          node = next;
        } else {
          node = node.param ??= new Node();
        }
      }
      if (segments.length > 0 && segments[segments.length - 1].kind === 'wildcard') node.wildcard = addTo(node.wildcard, rule);
      else node.terminal = addTo(node.terminal, rule);
    }
  }

  /**
   * The rule for this method on the most specific pattern matching the path (the segments of a canonical
   * path, from judgeablePath in gateway/request-target.ts); undefined when no pattern matches or that pattern has no rule for the method.
   */
  match(method: string, segments: readonly string[]): EndpointRule | undefined {
    return pick(this.search(this.root, segments, 0), method.toUpperCase());
  }

  private search(node: Node, segments: readonly string[], index: number): Terminal | undefined {
    // A pattern ending in "*" also covers its bare prefix ("/payroll", "/payroll/"), as ASP.NET's catch-all
    // does: a trailing-slash path is judged by the most specific rule covering it, never a broader one.
    if (index === segments.length) return node.terminal ?? node.wildcard;
    const literal = node.literals.get(segments[index]);
    return (literal && this.search(literal, segments, index + 1)) || (node.param && this.search(node.param, segments, index + 1)) || node.wildcard;
  }
}
