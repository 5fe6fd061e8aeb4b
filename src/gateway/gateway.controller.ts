import { BadRequestException, Body, Controller, ForbiddenException, Get, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppTokenVerifier } from '../app-token/app-token-verifier.js';
import { LastUsedTracker } from '../app-token/last-used.tracker.js';
import { Authenticated, Public } from '../auth/decorators/access.decorator.js';
import { Auth, isAdministrator, type Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/error-response.dto.js';
import { parseRoleList } from '../common/role-list.js';
import { EndpointRules } from '../endpoint/endpoint-rules.js';
import { requestSegments } from '../endpoint/route-matcher.js';
import { roleNameKey } from '../role/role-name.js';
import { IntrospectRequestDto, IntrospectResponseDto } from './dto/introspect.dto.js';
import { headerValue } from './identity-headers.js';

const BEARER = /^Bearer +(\S+) *$/i;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The original method and URI, from exactly one header family: nginx's X-Original-* (set by the shipped
 * template) or Traefik's X-Forwarded-* (set by Traefik). Both at once means a client added the other
 * family itself (Traefik passes client headers through), so the request is refused rather than judged
 * by a URI the client chose. A URI without its method is refused too: defaulting it would open GET rules.
 */
function originalRequest(request: FastifyRequest): { method: string; uri: string } | undefined {
  const nginx = { uri: header(request, 'x-original-uri'), method: header(request, 'x-original-method') };
  const traefik = { uri: header(request, 'x-forwarded-uri'), method: header(request, 'x-forwarded-method') };
  const hasNginx = nginx.uri !== undefined || nginx.method !== undefined;
  const hasTraefik = traefik.uri !== undefined || traefik.method !== undefined;
  if (hasNginx && hasTraefik) {
    throw new BadRequestException('Send the original request as X-Original-URI/-Method (nginx) or X-Forwarded-Uri/-Method (Traefik), not both');
  }
  const chosen = hasNginx ? nginx : hasTraefik ? traefik : undefined;
  if (!chosen) return undefined;
  if (chosen.uri === undefined || chosen.method === undefined || !/^[A-Za-z]{1,16}$/.test(chosen.method)) {
    throw new BadRequestException('The original method and URI must come together (X-Original-Method with X-Original-URI, or X-Forwarded-Method with X-Forwarded-Uri)');
  }
  return { method: chosen.method.toUpperCase(), uri: chosen.uri };
}

@ApiTags('gateway')
@Controller('api/v1/apptoken')
export class GatewayController {
  constructor(
    private readonly verifier: AppTokenVerifier,
    private readonly rules: EndpointRules,
    private readonly lastUsed: LastUsedTracker,
  ) {}

  /**
   * Forward-auth for gateways. Public in the guard's sense because it is itself the access decision:
   * a rule may let a request through without a token. Everything else needs a valid Bearer app token.
   */
  @Get('verify')
  @Public()
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Forward-auth for nginx auth_request and Traefik ForwardAuth',
    description:
      'With `role` parameters: a valid token holding one of them. With X-Original-URI / X-Forwarded-Uri: the endpoint rules decide ' +
      '(unmatched: 403). Neither: any valid token. 200 carries X-Identity-Name, X-Identity-Id and X-Identity-Roles.',
  })
  @ApiQuery({ name: 'role', required: false, isArray: true, type: String, description: 'Accept a token holding one of these roles', example: ['Payroll'] })
  @ApiHeader({ name: 'X-Original-URI', required: false, description: 'nginx: the original request URI', example: '/payroll/2026/11' })
  @ApiHeader({ name: 'X-Original-Method', required: false, description: 'nginx: the original method', example: 'GET' })
  @ApiHeader({ name: 'X-Forwarded-Uri', required: false, description: 'Traefik: the original request URI', example: '/payroll/2026/11' })
  @ApiHeader({ name: 'X-Forwarded-Method', required: false, description: 'Traefik: the original method', example: 'GET' })
  @ApiOkResponse({ description: 'Allowed; identity headers set (when a token was presented)' })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing or invalid token' })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: 'The token lacks the role, or no rule matches the request' })
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    let roles: readonly string[];
    let tokenRequired = true;
    const roleQuery = (request.query as Record<string, unknown> | undefined)?.role;
    const original = originalRequest(request);
    let byKey = false;
    if (roleQuery !== undefined) {
      const list = parseRoleList(roleQuery);
      if (!Array.isArray(list) || list.length === 0 || list.length > 64 || list.some((r) => typeof r !== 'string' || r.length > 64)) {
        throw new BadRequestException('role must be one or more role names');
      }
      roles = list as string[];
      byKey = true;
    } else if (original !== undefined) {
      const { method, uri } = original;
      const segments = requestSegments(uri);
      // Refused, not 400: nginx turns anything but 2xx/401/403 from auth_request into a 500.
      if (!segments) throw new ForbiddenException('The original URI is not a path every server reads the same way (encoded "/", "\\", ";", control characters, trailing ".")');
      const rule = (await this.rules.current()).match(method, segments);
      if (!rule) throw new ForbiddenException(`No endpoint rule allows ${method} ${uri.split('?')[0].slice(0, 200)}`);
      roles = rule.roles;
      tokenRequired = rule.authentication;
    } else {
      roles = [];
    }

    const authorization = request.headers.authorization;
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      if (!tokenRequired) return this.allow(reply);
      throw new UnauthorizedException('Send an app token as "Authorization: Bearer <app token>"');
    }
    const check = await this.verifier.verify(token);
    if (!check.ok) {
      if (!tokenRequired) return this.allow(reply);
      throw new UnauthorizedException(check.message);
    }
    const held = check.principal.roles;
    const allowed =
      roles.length === 0 || (byKey ? roles.some((role) => held.some((h) => roleNameKey(h) === roleNameKey(role))) : roles.some((role) => held.includes(role)));
    if (!allowed && tokenRequired) throw new ForbiddenException(`Requires role ${roles.join(' or ')}`);
    this.lastUsed.touch(check.record.id, request.ip);
    void reply
      .header('X-Identity-Name', headerValue(check.principal.name))
      .header('X-Identity-Id', String(check.principal.identityId))
      .header('X-Identity-Roles', headerValue(held.join(', ')));
    return this.allow(reply);
  }

  private allow(reply: FastifyReply): void {
    void reply.header('Cache-Control', 'no-store').code(200).send();
  }

  @Post('introspect')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: IntrospectResponseDto })
  @Authenticated({ summary: 'RFC 7662 token introspection (form-encoded or JSON `token`): Administrators, or the bearer of that token' })
  async introspect(@Auth() caller: Principal, @Body() dto: IntrospectRequestDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<IntrospectResponseDto> {
    if (!isAdministrator(caller)) {
      const presented = caller.via === 'token' ? BEARER.exec(request.headers.authorization ?? '')?.[1] : undefined;
      if (presented !== dto.token) throw new ForbiddenException('Only Administrators introspect tokens other than the one they present');
    }
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const check = await this.verifier.verify(dto.token);
    if (!check.ok) return { active: false };
    const { claims, principal } = check;
    const response: IntrospectResponseDto = {
      active: true,
      username: principal.name,
      iat: claims.nbf,
      nbf: claims.nbf,
      iss: claims.iss,
      aud: claims.aud,
      roles: [...principal.roles],
      token_type: 'Bearer',
    };
    if (check.record.expiresAt !== null) response.exp = Math.floor(check.record.expiresAt / 1000);
    return response;
  }
}
