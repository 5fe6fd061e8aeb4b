import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ACCESS_METADATA, type AccessRule } from './decorators/access.decorator.js';
import { holdsAny, type Principal } from './principal.js';
import { PrincipalService } from './principal.service.js';
import { sessionCookie } from './session-cookie.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { BEARER_AUTHENTICATOR, type BearerAuthenticator } from './bearer-authenticator.js';
import { bearerToken } from './bearer-token.js';

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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    if (!rule) throw new ForbiddenException('This route declares no access rule');
    if (rule.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = await this.authenticate(context, request, rule.bearerOnly, rule.changesState);
    // Before the role check, so that a refusal's access-log line says who was refused.
    request.principal = principal;
    if (rule.roles.length > 0 && !holdsAny(principal, rule.roles)) {
      throw new ForbiddenException(`Requires role ${rule.roles.join(' or ')}`);
    }
    return true;
  }

  private async authenticate(context: ExecutionContext, request: FastifyRequest, bearerOnly: boolean, changesState: boolean): Promise<Principal> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      if (bearerToken(authorization) === undefined) {
        throw new UnauthorizedException('Unsupported Authorization header; send "Authorization: Bearer <app token>"');
      }
      return this.bearer.authenticate(context);
    }
    if (bearerOnly) throw new UnauthorizedException('Send an app token as "Authorization: Bearer <app token>"');
    // Over HTTPS only the __Host- cookie counts: a plain-named one may have been planted by a sibling subdomain.
    const secret = request.cookies?.[sessionCookie(request, this.config.cookieSecure).name];
    if (!secret) throw new UnauthorizedException('Sign in (POST /api/v1/signin) or send "Authorization: Bearer <app token>"');
    if (changesState || !SAFE_METHODS.has(request.method)) this.assertSameOrigin(request);
    const principal = await this.principals.fromSession(secret);
    if (!principal) throw new UnauthorizedException('Session expired or signed out; sign in again');
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
      throw new ForbiddenException('Cross-origin request refused: a signed-in browser request must come from this server\'s own origin');
    }
    const header = request.headers.origin ?? request.headers.referer;
    if (header === undefined) return;
    const own = `${request.protocol}://${request.host}`.toLowerCase();
    if (originOf(header) !== own) {
      throw new ForbiddenException('Cross-origin request refused: a signed-in browser request must come from this server\'s own origin');
    }
  }
}
