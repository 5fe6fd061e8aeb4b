import { HttpStatus, Injectable } from '@nestjs/common';
import { AppTokenVerifier, tokenRefused } from '../app-token/app-token-verifier.js';
import { LastUsedTracker } from '../app-token/last-used.tracker.js';
import type { Principal } from '../auth/principal.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { parseRoleList } from '../common/role-list.js';
import { EndpointRules } from '../endpoint/endpoint-rules.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { EndpointRule } from '../endpoint/route-matcher.js';
import type { OriginalRequest } from './original-request.js';
import { judgeablePath } from './request-target.js';

/** What forward-auth is asked: by role names (`?role=`), by the original request, or about the token alone. */
export interface ForwardAuthQuestion {
  roleQuery: unknown;
  original: OriginalRequest | undefined;
  /** The Bearer token presented, if any. */
  token: string | undefined;
  address: string;
}

/** What the request needs: a token or not, and roles, every list of which the token must meet. */
interface Requirement {
  tokenRequired: boolean;
  /** Each entry: the token needs one of these roles (an empty entry: any valid token). */
  roleSets: (readonly string[])[];
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
    const requirement = await this.requirement(question);
    if (question.token === undefined) {
      if (!requirement.tokenRequired) return undefined;
      throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.AUTHENTICATION_REQUIRED, 'Send an app token as "Authorization: Bearer <app token>"');
    }
    const check = await this.verifier.verify(question.token);
    if (!check.ok) {
      if (!requirement.tokenRequired) return undefined;
      throw tokenRefused(check);
    }
    const held = check.principal.roles;
    // Case only: a look-alike (folded or confusable) name never stands for a real role here.
    const heldLower = requirement.ignoreCase ? held.map((h) => h.toLowerCase()) : held;
    const holds = requirement.ignoreCase ? (role: string) => heldLower.includes(role.toLowerCase()) : (role: string) => held.includes(role);
    const missing = requirement.roleSets.find((roles) => roles.length > 0 && !roles.some(holds));
    if (missing && requirement.tokenRequired) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `Requires role ${missing.join(' or ')}`);
    this.lastUsed.touch(check.record.id, question.address);
    return check.principal;
  }

  private async requirement({ roleQuery, original }: ForwardAuthQuestion): Promise<Requirement> {
    // Either question, never both: a role query must not stand in for the rules of the original request.
    if (roleQuery !== undefined && original !== undefined) {
      throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'Ask with ?role= or with the original request (X-Original-* / X-Forwarded-*), not both');
    }
    if (roleQuery !== undefined) {
      const list = parseRoleList(roleQuery);
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (!Array.isArray(list) || list.length === 0 || list.length > 64 || list.some((r) => typeof r !== 'string' || r.length > 64 || /[\x00-\x1f\x7f]/.test(r))) {
        throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, 'role must be one or more role names (at most 64, each at most 64 printable characters)');
      }
      return { tokenRequired: true, roleSets: [list as string[]], ignoreCase: true };
    }
    if (original === undefined) return { tokenRequired: true, roleSets: [], ignoreCase: false };

    const path = judgeablePath(original.uri);
    if ('problem' in path) throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, `Refused: ${path.problem}`);
    const matcher = await this.rules.current();
    // The request is judged as every method an upstream may run it as; each must be allowed.
    const rules: EndpointRule[] = [];
    for (const method of original.methods) {
      const rule = matcher.match(method, path.segments);
      if (!rule) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.NO_ENDPOINT_RULE, `No endpoint rule allows ${method} ${original.uri.split('?')[0].slice(0, 200)}`);
      rules.push(rule);
    }
    const authenticated = rules.filter((rule) => rule.authentication);
    return { tokenRequired: authenticated.length > 0, roleSets: authenticated.map((rule) => rule.roles), ignoreCase: false };
  }
}
