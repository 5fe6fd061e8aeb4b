import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBodyExamples } from '../common/api-body-examples.js';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { Auth, ClientAddress, type Principal } from '../auth/principal.js';
import { IdParam } from '../common/id.pipe.js';
import { setTotalCount } from '../common/pagination.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { CreateIdentityDto, IdentityDto, ListIdentitiesQueryDto, MyIdentityDto, UpdateIdentityDto } from './dto/identity.dto.js';
import { toMyIdentityDto } from './identity.mapper.js';
import { IdentityService } from './identity.service.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('identity')
@Controller('api/v1/identity')
export class IdentityController {
  constructor(private readonly identities: IdentityService) {}

  @Get()
  @ApiOkResponse({ type: [IdentityDto], headers: { 'X-Total-Count': { description: 'Identities matching, all pages', schema: { type: 'integer' } } } })
  @Authenticated({ summary: 'List identities (paged)' })
  async list(@Query() query: ListIdentitiesQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<IdentityDto[]> {
    const [page, total] = await this.identities.list(query);
    setTotalCount(reply, total);
    return page;
  }

  @Get('my')
  @ApiOkResponse({ type: MyIdentityDto })
  @Authenticated({ summary: 'The caller\'s identity and effective roles' })
  async my(@Auth() principal: Principal): Promise<MyIdentityDto> {
    // Authentication read the identity already (tokens: from the cache): answer from that, not a second read.
    if (principal.identity) return toMyIdentityDto(principal, principal.identity);
    const identity = await this.identities.get(principal.identityId);
    // Effective roles: for a token, only its roles the identity still holds.
    const roles = identity.roles.filter((role) => principal.roles.includes(role));
    return {
      ...identity,
      roles,
      role: roles.join(', '),
      authenticatedBy: principal.via,
      tokenId: principal.tokenId ?? null,
    };
  }

  @Get(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such identity' })
  @ApiOkResponse({ type: IdentityDto })
  @Authenticated({ summary: 'Get an identity' })
  get(@IdParam() id: number): Promise<IdentityDto> {
    return this.identities.get(id);
  }

  @Post()
  @ApiErrors({ 409: 'CONFLICT: an identity of that name exists (names are case-insensitive)' })
  @ApiCreatedResponse({ type: IdentityDto })
  @ApiBodyExamples(CreateIdentityDto, {
    'a person who signs in': { name: 'alice@example.com', password: 'correct horse battery staple', roles: ['Operator'] },
    'a service identity (app tokens only)': { name: 'payroll-bot', source: 'service', role: 'Reader' },
  })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Create an identity' })
  create(@Auth() actor: Principal, @Body() dto: CreateIdentityDto, @ClientAddress() address: string): Promise<IdentityDto> {
    return this.identities.create(actor, dto, address);
  }

  @Put(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such identity', 409: 'CONFLICT: an identity of that name exists; LAST_ADMINISTRATOR: the change would leave no enabled Administrator' })
  @ApiOkResponse({ type: IdentityDto })
  @ApiBodyExamples(UpdateIdentityDto, {
    'change the roles': { roles: ['Reader'] },
    'disable (ends its sessions, stops its tokens)': { disabled: true },
    'set a new password': { password: 'another long passphrase' },
  })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Update an identity (fields given are changed)' })
  update(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: UpdateIdentityDto, @ClientAddress() address: string): Promise<IdentityDto> {
    return this.identities.update(actor, id, dto, address);
  }

  @Patch(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such identity', 409: 'CONFLICT: an identity of that name exists; LAST_ADMINISTRATOR: the change would leave no enabled Administrator' })
  @ApiOkResponse({ type: IdentityDto })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Update an identity (same as PUT)' })
  patch(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: UpdateIdentityDto, @ClientAddress() address: string): Promise<IdentityDto> {
    return this.identities.update(actor, id, dto, address);
  }

  @Delete(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such identity', 409: 'LAST_ADMINISTRATOR: it is the last enabled Administrator' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted, with its sessions and tokens' })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Delete an identity' })
  async delete(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<void> {
    await this.identities.delete(actor, id, address);
  }
}
