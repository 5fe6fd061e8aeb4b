import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { IdentityDto } from '../identity/dto/identity.dto.js';
import { ErrorResponseDto } from '../common/error-response.dto.js';
import { AuthService } from './auth.service.js';
import { Authenticated, Public } from './decorators/access.decorator.js';
import { SigninDto, SigninFailedDto } from './dto/signin.dto.js';
import { Auth, ClientAddress, type Principal } from './principal.js';
import { sessionCookie } from './session-cookie.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('auth')
@Controller('api/v1')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('signin')
  @ApiErrors({ 503: 'DATABASE_UNAVAILABLE, or SERVICE_UNAVAILABLE when too many sign-ins are being checked; see Retry-After' })
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign in with a user name and password',
    description: 'Starts a server-side session carried by an HttpOnly, SameSite=Strict cookie. Property names in any letter case.',
  })
  @ApiOkResponse({ type: IdentityDto })
  @ApiUnauthorizedResponse({ type: SigninFailedDto, description: 'INVALID_CREDENTIALS: unknown user, wrong password or disabled account (the same answer for all)' })
  @ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'THROTTLED: too many failures for this user name or address, or too many sign-ins in progress from this address; see Retry-After' })
  async signin(
    @Body() dto: SigninDto,
    @ClientAddress() address: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IdentityDto> {
    const result = await this.auth.signin(dto, address, request.headers['user-agent']);
    const cookie = sessionCookie(request, this.config.cookieSecure);
    void reply.setCookie(cookie.name, result.sessionSecret, cookie.options);
    void reply.header('Cache-Control', 'no-store');
    return result.identity;
  }

  @Get('signout')
  @ApiErrors({ 400: 'BAD_REQUEST: made with an app token, which is ended by revoking it' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The session is deleted on the server; the old cookie no longer works' })
  @Authenticated({ summary: 'Sign out (GET, as PSU)', changesState: true })
  async signoutGet(@Auth() principal: Principal, @ClientAddress() address: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.signout(principal, address, request, reply);
  }

  @Post('signout')
  @ApiErrors({ 400: 'BAD_REQUEST: made with an app token, which is ended by revoking it' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The session is deleted on the server; the old cookie no longer works' })
  @Authenticated({ summary: 'Sign out' })
  async signoutPost(@Auth() principal: Principal, @ClientAddress() address: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.signout(principal, address, request, reply);
  }

  private async signout(principal: Principal, address: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.auth.signout(principal, address);
    const cookie = sessionCookie(request, this.config.cookieSecure);
    void reply.clearCookie(cookie.name, cookie.options);
  }
}
