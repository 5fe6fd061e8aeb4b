import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ACCESS_METADATA, type AccessRule } from './decorators/access.decorator.js';
import { holdsAny, type Principal } from './principal.js';
import { PrincipalService } from './principal.service.js';
import { sessionSecret } from './session-cookie.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AuthVia } from '../metrics/auth-outcome.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BEARER_AUTHENTICATOR, type BearerAuthenticator } from './bearer-authenticator.js';
import { bearerToken } from './bearer-token.js';
import { ApiException, ErrorCode } from '../common/error-code.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin (scheme://host[:port]) an Origin or Referer header names, or null when it names none. */
function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? null : url.origin.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The one global guard. A route that declares no access rule is refused: deny by default.
 * Authenticates by `Authorization: Bearer <app token>` or the session cookie (never a token in the URL),
 * refuses cross-origin unsafe requests made with the cookie, then checks the route's roles.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly principals: PrincipalService,
    @Inject(BEARER_AUTHENTICATOR) private readonly bearer: BearerAuthenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    if (!rule) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, 'This route declares no access rule');
    if (rule.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const decision = this.authorize(context, request, rule);
    // A request that presents no credential at all is refused without a decision to count.
    const via = this.presented(request, rule.bearerOnly);
    request.principal = via === undefined ? await decision : await this.metrics.countAuth(via, decision);
    return true;
  }

  private async authorize(context: ExecutionContext, request: FastifyRequest, rule: Extract<AccessRule, { kind: 'authenticated' }>): Promise<Principal> {
    const principal = await this.authenticate(context, request, rule.bearerOnly, rule.changesState);
    // Before the role check, so that a refusal's access-log line says who was refused.
    request.principal = principal;
    if (rule.roles.length > 0 && !holdsAny(principal, rule.roles)) {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, `Requires role ${rule.roles.join(' or ')}`);
    }
    return principal;
  }

  /** The credential the request presents, as authenticate() will read it. */
  private presented(request: FastifyRequest, bearerOnly: boolean): AuthVia | undefined {
    if (request.headers.authorization !== undefined) return 'token';
    if (!bearerOnly && sessionSecret(request, this.config.cookieSecure)) return 'session';
    return undefined;
  }

  private async authenticate(context: ExecutionContext, request: FastifyRequest, bearerOnly: boolean, changesState: boolean): Promise<Principal> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      if (bearerToken(authorization) === undefined) {
        throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.AUTHENTICATION_REQUIRED, 'Unsupported Authorization header; send "Authorization: Bearer <app token>"');
      }
      return this.bearer.authenticate(context);
    }
    if (bearerOnly) throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.AUTHENTICATION_REQUIRED, 'Send an app token as "Authorization: Bearer <app token>"');
    // Over HTTPS only the __Host- cookie counts: a plain-named one may have been planted by a sibling subdomain.
    const secret = sessionSecret(request, this.config.cookieSecure);
    if (!secret) throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.AUTHENTICATION_REQUIRED, 'Sign in (POST /api/v1/signin) or send "Authorization: Bearer <app token>"');
    if (changesState || !SAFE_METHODS.has(request.method)) this.assertSameOrigin(request);
    const principal = await this.principals.fromSession(secret);
    if (!principal) throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.SESSION_EXPIRED, 'Session expired or signed out; sign in again');
    return principal;
  }

  /**
   * Cookie-authenticated requests that change something must come from our own origin when the browser
   * says where they come from: Sec-Fetch-Site (which also catches same-site neighbours, such as another
   * port on this host, that SameSite=Strict lets through), then Origin, then Referer. With none of them
   * (PowerShell, curl) they pass: SameSite=Strict already keeps browsers from sending the cookie cross-site.
   */
  private assertSameOrigin(request: FastifyRequest): void {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.CROSS_ORIGIN_REFUSED, 'Cross-origin request refused: a signed-in browser request must come from this server\'s own origin');
    }
    const header = request.headers.origin ?? request.headers.referer;
    if (header === undefined) return;
    const own = `${request.protocol}://${request.host}`.toLowerCase();
    if (originOf(header) !== own) {
      throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.CROSS_ORIGIN_REFUSED, 'Cross-origin request refused: a signed-in browser request must come from this server\'s own origin');
    }
  }
}
