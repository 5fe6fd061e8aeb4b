import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AppTokenVerifier, tokenRefused } from '../app-token/app-token-verifier.js';
import { LastUsedTracker } from '../app-token/last-used.tracker.js';
import type { Principal } from '../auth/principal.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { loggablePath, maskTokens } from '../common/logging.js';
import { parseRoleList } from '../common/role-list.js';
import { EndpointRules } from '../endpoint/endpoint-rules.js';
import type { EndpointRule } from '../endpoint/route-matcher.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type Headers, originalRequest, type OriginalRequest } from './original-request.js';
import { judgeablePath } from './request-target.js';

/** What forward-auth is asked: by role names (`?role=`), by the original request, or about the token alone. */
export interface ForwardAuthQuestion {
  roleQuery: unknown;
  /** The request's headers: the original request (X-Original-* / X-Forwarded-*), when a gateway sent it. */
  headers: Headers;
  /** The Bearer token presented, if any. */
  token: string | undefined;
  address: string;
}

/** What the request needs: a token or not, and roles, every list of which the token must meet. */
interface Requirement {
  tokenRequired: boolean;
  /** Each entry: the token needs one of these roles (an empty entry: any valid token). */
  roleSets: (readonly string[])[];
  /** The endpoint rule behind each entry of `roleSets` (none for a `?role=` question), for the log. */
  rules: (EndpointRule | undefined)[];
  /** Role names compared case-insensitively (a gateway's ?role=), or exactly (rules, which name real roles). */
  ignoreCase: boolean;
}

/**
 * The forward-auth decision (nginx auth_request, Traefik ForwardAuth): which rules apply to the original
 * request, and whether the presented token meets all of them. Answers with the caller (or none, for an
 * open rule) or throws 400 (a request no rule can judge safely), 401 or 403.
 */
@Injectable()
export class ForwardAuthService {
  private readonly logger = new Logger('ForwardAuth');

  constructor(
    private readonly verifier: AppTokenVerifier,
    private readonly rules: EndpointRules,
    private readonly lastUsed: LastUsedTracker,
    private readonly metrics: MetricsService,
  ) {}

  decide(question: ForwardAuthQuestion): Promise<Principal | undefined> {
    return this.metrics.countAuth('gateway', this.judge(question));
  }

  private async judge(question: ForwardAuthQuestion): Promise<Principal | undefined> {
    let original: OriginalRequest | undefined;
    try {
      original = originalRequest(question.headers);
    } catch (error) {
      if (error instanceof HttpException && error.getStatus() === 400) this.refuse(error, {});
      throw error;
    }
    const requirement = await this.requirement(question.roleQuery, original);
    const authenticating = requirement.rules.filter((rule) => rule !== undefined).map(ruleForLog);
    if (question.token === undefined) {
      if (!requirement.tokenRequired) return undefined;
      this.refuse(new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.AUTHENTICATION_REQUIRED, 'Send an app token as "Authorization: Bearer <app token>"'), { rules: authenticating });
    }
    const check = await this.verifier.verify(question.token, { address: question.address, via: 'forward-auth' });
    if (!check.ok) {
      if (!requirement.tokenRequired) return undefined;
      this.refuse(tokenRefused(check), { rules: authenticating });
    }
    const held = check.principal.roles;
    // Case only: a look-alike (folded or confusable) name never stands for a real role here.
    const heldLower = requirement.ignoreCase ? held.map((h) => h.toLowerCase()) : held;
    const holds = requirement.ignoreCase ? (role: string) => heldLower.includes(role.toLowerCase()) : (role: string) => held.includes(role);
    const missing = requirement.roleSets.findIndex((roles) => roles.length > 0 && !roles.some(holds));
    if (missing !== -1 && requirement.tokenRequired) {
      const rule = requirement.rules[missing];
      this.refuse(new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `Requires role ${requirement.roleSets[missing].join(' or ')}`), {
        rule: rule && ruleForLog(rule),
        identityId: check.principal.identityId,
        tokenId: check.record.id,
      });
    }
    this.lastUsed.touch(check.record.id, question.address);
    return check.principal;
  }

  /** Logs why a gateway was told no (the reason and the rule, never the token), then says no. */
  private refuse(exception: HttpException, detail: Record<string, unknown>): never {
    const status = exception.getStatus();
    const fields = { status, reason: maskTokens(exception.message), ...detail };
    // A request no rule can judge (a path not in canonical form) looks like probing: worth a warning.
    if (status === 400) this.logger.warn(fields, 'forward-auth refused');
    else this.logger.log(fields, 'forward-auth refused');
    throw exception;
  }

  private async requirement(roleQuery: unknown, original: OriginalRequest | undefined): Promise<Requirement> {
    // Either question, never both: a role query must not stand in for the rules of the original request.
    if (roleQuery !== undefined && original !== undefined) {
      this.refuse(new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'Ask with ?role= or with the original request (X-Original-* / X-Forwarded-*), not both'), {});
    }
    if (roleQuery !== undefined) {
      const list = parseRoleList(roleQuery);
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (!Array.isArray(list) || list.length === 0 || list.length > 64 || list.some((r) => typeof r !== 'string' || r.length > 64 || /[\x00-\x1f\x7f]/.test(r))) {
        this.refuse(new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, 'role must be one or more role names (at most 64, each at most 64 printable characters)'), {});
      }
      return { tokenRequired: true, roleSets: [list as string[]], rules: [undefined], ignoreCase: true };
    }
    if (original === undefined) return { tokenRequired: true, roleSets: [], rules: [], ignoreCase: false };

    // Shown in the answer and the log with tokens masked: a proxy may log answers.
    const shown = maskTokens(original.uri.split('?')[0].slice(0, 200));
    const path = judgeablePath(original.uri);
    if ('problem' in path) this.refuse(new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, `Refused: ${path.problem}`), { methods: original.methods, path: loggablePath(shown) });
    const matcher = await this.rules.current();
    // The request is judged as every method an upstream may run it as; each must be allowed.
    const rules: EndpointRule[] = [];
    for (const method of original.methods) {
      const rule = matcher.match(method, path.segments);
      if (!rule) this.refuse(new ApiException(HttpStatus.FORBIDDEN, ErrorCode.NO_ENDPOINT_RULE, `No endpoint rule allows ${method} ${shown}`), { method, path: loggablePath(shown), rule: null });
      rules.push(rule);
    }
    const authenticated = rules.filter((rule) => rule.authentication);
    return { tokenRequired: authenticated.length > 0, roleSets: authenticated.map((rule) => rule.roles), rules: authenticated, ignoreCase: false };
  }
}

/** A rule as the log shows it: which one (id) and what it covers (pattern, methods). */
function ruleForLog(rule: EndpointRule): { id: number; url: string; methods: readonly string[] } {
  return { id: rule.id, url: rule.url, methods: rule.methods };
}
