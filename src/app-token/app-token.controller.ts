import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { Auth, ClientAddress, type Principal } from '../auth/principal.js';
import { ApiBodyExamples } from '../common/api-body-examples.js';
import { ErrorResponseDto } from '../common/error-response.dto.js';
import { IdParam } from '../common/id.pipe.js';
import { setTotalCount } from '../common/pagination.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { AppTokenMigrationService } from './app-token-migration.service.js';
import { AppTokenQueryService } from './app-token-query.service.js';
import { AppTokenBulkService } from './app-token-bulk.service.js';
import { AppTokenService, type GrantRequest } from './app-token.service.js';
import { BulkTokensDto, BulkTokensResultDto, MAX_BULK_TOKENS } from './dto/app-token-bulk.dto.js';
import { AppTokenDto, GrantBodyDto, GrantQueryDto, lifespanDaysOf, LifetimePolicyDto, ListTokensQueryDto, MigrateTokenDto, RotateTokenDto } from './dto/app-token.dto.js';
import { ApiErrors } from '../common/api-errors.js';

const GRANT_OTHER_ERRORS = {
  400: 'VALIDATION_FAILED: identityId is not a positive whole number, a role, lifespanDays (lifetimeInDays) or expiration is wrong, the identity holds no role, or the lifetime is over the maximum',
  404: 'NOT_FOUND: no such identity',
  409: 'CONFLICT: the identity is disabled',
};

function grantToIdentity(identityId: number, query: GrantQueryDto): GrantRequest {
  return { identity: { id: identityId }, roles: query.role, lifespanDays: lifespanDaysOf(query), expiration: query.expiration, description: query.description };
}

@ApiTags('apptoken')
@Controller('api/v1/apptoken')
export class AppTokenController {
  constructor(
    private readonly tokens: AppTokenService,
    private readonly queries: AppTokenQueryService,
    private readonly migration: AppTokenMigrationService,
    private readonly bulk: AppTokenBulkService,
  ) {}

  @Get('grant')
  @ApiErrors({ 400: 'VALIDATION_FAILED: a role, lifespanDays (lifetimeInDays) or expiration is wrong, or the lifetime is over the maximum', 403: 'ROLE_REQUIRED: the caller does not hold a role asked for', 409: 'CONFLICT: the token this request was made with ended meanwhile, or the identity is disabled' })
  @ApiOkResponse({ type: AppTokenDto, description: 'The new token; `token` holds its value, shown only now' })
  @Authenticated({ summary: 'Grant the caller a token (PSU: Invoke-RestMethod .../apptoken/grant -WebSession $Session)', changesState: true })
  grantSelf(@Auth() actor: Principal, @Query() query: GrantQueryDto, @ClientAddress() address: string): Promise<AppTokenDto> {
    return this.tokens.grant(actor, { roles: query.role, lifespanDays: lifespanDaysOf(query), expiration: query.expiration, description: query.description }, address);
  }

  @Get('grant/:identityId')
  @ApiErrors(GRANT_OTHER_ERRORS)
  @ApiOkResponse({ type: AppTokenDto })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: "Grant a token to another identity; roles default to that identity's roles", changesState: true })
  grantOther(
    @Auth() actor: Principal,
    @IdParam('identityId') identityId: number,
    @Query() query: GrantQueryDto,
    @ClientAddress() address: string,
  ): Promise<AppTokenDto> {
    return this.tokens.grant(actor, grantToIdentity(identityId, query), address);
  }

  // PSU 4.5's PowerShell module calls this path for `Grant-PSUAppToken -Identity` (PSU issue 4950). Two segments
  // after apptoken/, so it never meets `GET :id`; its id is checked like grant/:identityId's.
  @Get(':identityId/grant')
  @ApiErrors(GRANT_OTHER_ERRORS)
  @ApiOkResponse({ type: AppTokenDto })
  @Authenticated({
    roles: [BuiltinRole.Administrator],
    summary: "The same as GET grant/{identityId}: the path PSU 4.5's Grant-PSUAppToken -Identity calls (PSU issue 4950)",
    changesState: true,
  })
  grantOtherPsu(
    @Auth() actor: Principal,
    @IdParam('identityId') identityId: number,
    @Query() query: GrantQueryDto,
    @ClientAddress() address: string,
  ): Promise<AppTokenDto> {
    return this.tokens.grant(actor, grantToIdentity(identityId, query), address);
  }

  @Post('grant')
  @ApiErrors({
    400: 'VALIDATION_FAILED: a role, the expiration, lifespanDays (lifetimeInDays) or the identity reference is wrong, a role does not exist (identity.system), or the lifetime is over the maximum',
    403: 'ROLE_REQUIRED: the caller does not hold a role asked for, or is not an Administrator granting to another identity or with identity.system',
    404: 'NOT_FOUND: no such identity (without identity.system)',
    409: 'CONFLICT: the identity is disabled, or is not a service identity (identity.system), or the token this request was made with ended meanwhile',
  })
  @ApiCreatedResponse({ type: AppTokenDto })
  @ApiBodyExamples(GrantBodyDto, {
    'yourself, all your roles, 90 days': { lifespanDays: 90, description: 'CI pipeline' },
    'yourself, Reader only, until a date': { roles: ['Reader'], expiration: '2027-06-30T00:00:00Z' },
    'another identity (Administrators), never expiring': { identity: { name: 'payroll-bot' }, expiration: 'never', description: 'payroll nightly job' },
    "a service identity, created when missing (PSU's system identity; Administrators)": {
      identity: { name: 'backup-agent', system: true },
      role: 'Reader',
      expiration: '2027-06-30T10:00:00.1234567+01:00',
    },
  })
  @Authenticated({ summary: 'Grant a token (to the caller, or as an Administrator to any identity, or to a service identity it creates when missing)' })
  grant(@Auth() actor: Principal, @Body() dto: GrantBodyDto, @ClientAddress() address: string): Promise<AppTokenDto> {
    if (dto.roles !== undefined && dto.role !== undefined) throw new BadRequestException('give the roles as either "roles" or "role", not both');
    return this.tokens.grant(
      actor,
      { identity: dto.identity, roles: dto.roles ?? dto.role, lifespanDays: lifespanDaysOf(dto), expiration: dto.expiration, description: dto.description },
      address,
    );
  }

  @Post()
  @ApiErrors({ 409: 'CONFLICT: the token is already stored here, or was deleted here' })
  @ApiCreatedResponse({ type: AppTokenDto })
  @ApiBodyExamples(MigrateTokenDto, {
    "PSU's migration body (PowerShell 7's ConvertTo-Json)": {
      Token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ...',
      Identity: { Name: 'Admin' },
      Role: 'Administrator',
      Expiration: '2027-05-28T17:24:25.1234567+02:00',
    },
  })
  @ApiUnprocessableEntityResponse({ type: ErrorResponseDto, description: 'MIGRATION_REFUSED: the token does not verify here, has expired, or the body disagrees with its claims, or a role does not exist here; nothing was written' })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Migrate a token minted by PSU or another instance with the same signing key' })
  migrate(@Auth() actor: Principal, @Body() dto: MigrateTokenDto, @ClientAddress() address: string): Promise<AppTokenDto> {
    return this.migration.migrate(actor, dto, address);
  }

  @Get('policy')
  @ApiOkResponse({ type: LifetimePolicyDto })
  @Authenticated({ summary: 'The lifetime policy grants follow: the default lifetime, and the maximum (null: "never" is allowed)' })
  policy(): LifetimePolicyDto {
    return this.tokens.lifetimePolicy();
  }

  @Post('bulk-revoke')
  @HttpCode(200)
  @ApiErrors({
    400: `VALIDATION_FAILED: no filter given (dryRun alone is not one), revokedOnly given, a field is wrong, more than ${MAX_BULK_TOKENS} ids, or the filter matches more than ${MAX_BULK_TOKENS} tokens`,
    403: 'ROLE_REQUIRED: `identity` names another identity and the caller is not an Administrator',
    404: 'NOT_FOUND: the identity or role named does not exist',
    409: 'CONFLICT: concurrent changes to the same tokens kept getting in the way; nothing was changed; retry',
  })
  @ApiOkResponse({ type: BulkTokensResultDto, description: 'What was revoked (or, with dryRun, would be)' })
  @ApiBodyExamples(BulkTokensDto, {
    "an identity's tokens unused for 90 days, dry run first": { identity: 'payroll-bot', unusedForDays: 90, dryRun: true },
    'these tokens': { ids: [41, 42, 57] },
    'every token holding a role': { role: 'Payroll' },
  })
  @Authenticated({
    summary:
      "Revoke many tokens at once, on every instance, in one transaction with one audit event (apptoken.bulk_revoked) and an apptoken.revoked webhook event per token (data.bulk: true). Administrators: any tokens; anyone else: their own only (others' ids are not matched). Tokens granted with them are revoked too (descendantIds). Filters combine (AND)",
  })
  bulkRevoke(@Auth() actor: Principal, @Body() dto: BulkTokensDto, @ClientAddress() address: string): Promise<BulkTokensResultDto> {
    return this.bulk.revoke(actor, dto, address);
  }

  @Post('bulk-delete')
  @HttpCode(200)
  @ApiErrors({
    400: `VALIDATION_FAILED: no filter given (dryRun alone is not one), a field is wrong, more than ${MAX_BULK_TOKENS} ids, or the filter matches more than ${MAX_BULK_TOKENS} tokens`,
    403: 'ROLE_REQUIRED: `identity` names another identity and the caller is not an Administrator',
    404: 'NOT_FOUND: the identity or role named does not exist',
    409: 'CONFLICT: concurrent changes to the same tokens kept getting in the way; nothing was changed; retry',
  })
  @ApiOkResponse({ type: BulkTokensResultDto, description: 'What was deleted (or, with dryRun, would be)' })
  @ApiBodyExamples(BulkTokensDto, {
    'revoked tokens, dry run first': { revokedOnly: true, dryRun: true },
    "expired tokens of one identity": { identity: 'payroll-bot', expiredOnly: true },
    'these tokens': { ids: [41, 42, 57] },
  })
  @Authenticated({
    summary:
      "Revoke and remove many tokens at once (as DELETE /apptoken/{id} does each), in one transaction with one audit event (apptoken.bulk_deleted) and an apptoken.deleted webhook event per token (data.bulk: true). Administrators: any tokens; anyone else: their own only (others' ids are not matched). Tokens granted with them are removed too (descendantIds). Filters combine (AND)",
  })
  bulkDelete(@Auth() actor: Principal, @Body() dto: BulkTokensDto, @ClientAddress() address: string): Promise<BulkTokensResultDto> {
    return this.bulk.delete(actor, dto, address);
  }

  @Get()
  @ApiOkResponse({ type: [AppTokenDto], headers: { 'X-Total-Count': { description: 'Tokens matching, all pages', schema: { type: 'integer' } } } })
  @Authenticated({
    summary:
      "Tokens (newest first unless `sort`/`order` say otherwise): all for Administrators, the caller's own otherwise, whatever the filters say. Filters combine (AND) with each other, `search`, paging and sorting; X-Total-Count counts all that match",
  })
  async list(@Auth() actor: Principal, @Query() query: ListTokensQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<AppTokenDto[]> {
    const [tokens, total] = await this.queries.list(actor, query);
    setTotalCount(reply, total);
    return tokens;
  }

  @Get(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such token, or not the caller\'s' })
  @ApiOkResponse({ type: AppTokenDto })
  @Authenticated({ summary: 'One token (its owner or an Administrator; 404 to anyone else)' })
  get(@Auth() actor: Principal, @IdParam() id: number): Promise<AppTokenDto> {
    return this.queries.get(actor, id);
  }

  @Post(':id/revoke')
  @ApiErrors({ 403: 'ROLE_REQUIRED: the app token used lacks a role of the token to revoke', 404: 'NOT_FOUND: no such token, or not the caller\'s' })
  @HttpCode(200)
  @ApiOkResponse({ type: AppTokenDto })
  @Authenticated({ summary: 'Revoke a token now, on every instance (idempotent)' })
  revoke(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<AppTokenDto> {
    return this.tokens.revoke(actor, id, address);
  }

  @Post(':id/rotate')
  @ApiErrors({ 400: 'VALIDATION_FAILED: graceSeconds is wrong, or the lifetime is over the maximum', 403: 'ROLE_REQUIRED: the app token used lacks a role of the token; FORBIDDEN: the token is the one this app token was granted with', 404: 'NOT_FOUND: no such token, or not the caller\'s', 409: 'CONFLICT: the token is revoked, expired or being rotated, or its identity is disabled or lost its roles' })
  @ApiBodyExamples(RotateTokenDto, { 'revoke the old token now': {}, 'keep the old token five more minutes': { graceSeconds: 300 } })
  @ApiCreatedResponse({ type: AppTokenDto, description: 'The new token; the old one is revoked now or after graceSeconds' })
  @Authenticated({ roles: [BuiltinRole.Administrator, BuiltinRole.Operator], summary: 'Replace a token with a new one of the same identity, roles and lifetime' })
  rotate(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: RotateTokenDto, @ClientAddress() address: string): Promise<AppTokenDto> {
    return this.tokens.rotate(actor, id, dto.graceSeconds ?? 0, address);
  }

  @Delete(':id')
  @ApiErrors({ 403: 'ROLE_REQUIRED: the app token used lacks a role of the token to delete', 404: 'NOT_FOUND: no such token, or not the caller\'s' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked and removed' })
  @Authenticated({ summary: 'Revoke and remove a token' })
  async delete(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<void> {
    await this.tokens.delete(actor, id, address);
  }
}
