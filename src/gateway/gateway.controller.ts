import { Body, Controller, Get, HttpStatus, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
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
import { Authenticated, Public } from '../auth/decorators/access.decorator.js';
import { Auth, isAdministrator, type Principal } from '../auth/principal.js';
import { bearerToken } from '../auth/bearer-token.js';
import { clientAddress } from '../auth/client-address.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { ErrorResponseDto } from '../common/error-response.dto.js';
import { IntrospectRequestDto, IntrospectResponseDto } from './dto/introspect.dto.js';
import { ForwardAuthService } from './forward-auth.service.js';
import { headerValue } from './identity-headers.js';
import { ApiErrors, UNAUTHORIZED_DESCRIPTION } from '../common/api-errors.js';

@ApiTags('gateway')
@Controller('api/v1/apptoken')
export class GatewayController {
  constructor(
    private readonly forwardAuth: ForwardAuthService,
    private readonly verifier: AppTokenVerifier,
  ) {}

  /**
   * Forward-auth for gateways. Public in the guard's sense because it is itself the access decision:
   * a rule may let a request through without a token. Everything else needs a valid Bearer app token.
   */
  @Get('verify')
  @ApiErrors({ 503: 'DATABASE_UNAVAILABLE: PostgreSQL cannot be reached; see Retry-After' })
  @Public()
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Forward-auth for nginx auth_request and Traefik ForwardAuth',
    description:
      'With `role` parameters: a valid token holding one of them. With X-Original-URI / X-Forwarded-Uri: the endpoint rules decide ' +
      '(unmatched: 403), on the path exactly as the upstream will receive it: a path not in canonical form is refused (400). ' +
      'Method-override headers (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) and a POST\'s `_method` query parameter are ' +
      'judged too: every method named must be allowed. Neither header family: any valid token. ' +
      '200 carries X-Identity-Name, X-Identity-Id and X-Identity-Roles.',
  })
  @ApiQuery({ name: 'role', required: false, isArray: true, type: String, description: 'Accept a token holding one of these roles', example: ['Payroll'] })
  @ApiHeader({ name: 'X-Original-URI', required: false, description: 'nginx: the original request URI', example: '/payroll/2026/11' })
  @ApiHeader({ name: 'X-Original-Method', required: false, description: 'nginx: the original method', example: 'GET' })
  @ApiHeader({ name: 'X-Forwarded-Uri', required: false, description: 'Traefik: the original request URI', example: '/payroll/2026/11' })
  @ApiHeader({ name: 'X-Forwarded-Method', required: false, description: 'Traefik: the original method', example: 'GET' })
  @ApiOkResponse({ description: 'Allowed; identity headers set (when a token was presented)' })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: UNAUTHORIZED_DESCRIPTION })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: 'ROLE_REQUIRED: the token lacks the role; NO_ENDPOINT_RULE: no rule matches the original request' })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'BAD_REQUEST: the original request cannot be judged as the upstream will read it: a path not in canonical form (raw or encoded "." / ".." segments, ' +
      'empty segments, encoded "/", "\\", ";", "%"), a method-override naming no method, or both header families, or both ?role= and the original request; ' +
      'VALIDATION_FAILED: a role name is not one',
  })
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const principal = await this.forwardAuth.decide({
      roleQuery: (request.query as Record<string, unknown> | undefined)?.role,
      headers: request.headers,
      token: bearerToken(request.headers.authorization),
      address: clientAddress(request.ip, request.socket.remoteAddress),
    });
    if (principal) {
      // For the access log (identity and token id); verify is public in the guard's sense, so nothing else sets it.
      request.principal = principal;
      void reply
        .header('X-Identity-Name', headerValue(principal.name))
        .header('X-Identity-Id', String(principal.identityId))
        .header('X-Identity-Roles', headerValue(principal.roles.join(', ')));
    }
    return this.allow(reply);
  }

  private allow(reply: FastifyReply): void {
    void reply.header('Cache-Control', 'no-store').code(200).send();
  }

  @Post('introspect')
  @ApiErrors({ 403: 'ROLE_REQUIRED: only Administrators introspect a token other than the one they present' })
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: IntrospectResponseDto })
  @Authenticated({ summary: 'RFC 7662 token introspection (form-encoded or JSON `token`): Administrators, or the bearer of that token' })
  async introspect(@Auth() caller: Principal, @Body() dto: IntrospectRequestDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<IntrospectResponseDto> {
    if (!isAdministrator(caller)) {
      const presented = caller.via === 'token' ? bearerToken(request.headers.authorization) : undefined;
      if (presented !== dto.token) throw new ApiException(HttpStatus.FORBIDDEN, ErrorCode.ROLE_REQUIRED, 'Only Administrators introspect tokens other than the one they present');
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
