import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBodyExamples } from '../common/api-body-examples.js';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { Auth, ClientAddress, type Principal } from '../auth/principal.js';
import { IdParam } from '../common/id.pipe.js';
import { setTotalCount } from '../common/pagination.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { CreateEndpointDto, EndpointDto, ListEndpointsQueryDto, UpdateEndpointDto } from './dto/endpoint.dto.js';
import { EndpointService } from './endpoint.service.js';
import { ApiErrors } from '../common/api-errors.js';

const ADMIN = { roles: [BuiltinRole.Administrator] } as const;

@ApiTags('endpoint')
@Controller('api/v1/endpoint')
export class EndpointController {
  constructor(private readonly endpoints: EndpointService) {}

  @Get()
  @ApiOkResponse({ type: [EndpointDto], headers: { 'X-Total-Count': { description: 'Rules, all pages', schema: { type: 'integer' } } } })
  @Authenticated({ ...ADMIN, summary: 'List custom API endpoint rules' })
  async list(@Query() query: ListEndpointsQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<EndpointDto[]> {
    const [rules, total] = await this.endpoints.list(query);
    setTotalCount(reply, total);
    return rules;
  }

  @Get(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such endpoint rule' })
  @ApiOkResponse({ type: EndpointDto })
  @Authenticated({ ...ADMIN, summary: 'Get an endpoint rule' })
  get(@IdParam() id: number): Promise<EndpointDto> {
    return this.endpoints.get(id);
  }

  @Post()
  @ApiErrors({ 409: 'CONFLICT: another rule already covers these methods on the same paths' })
  @ApiCreatedResponse({ type: EndpointDto })
  @ApiBodyExamples(CreateEndpointDto, {
    'GET under /payroll/ for Operators': { url: '/payroll/*', method: ['GET'], authentication: true, role: ['Operator'] },
    'one resource, any method': { url: '/users/:id', role: 'Reader' },
    'open to anyone, no token': { url: '/health', authentication: false },
  })
  @Authenticated({ ...ADMIN, summary: 'Create an endpoint rule (as New-PSUEndpoint: url, method, authentication, role)' })
  create(@Auth() actor: Principal, @Body() dto: CreateEndpointDto, @ClientAddress() address: string): Promise<EndpointDto> {
    return this.endpoints.create(actor, dto, address);
  }

  @Put(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such endpoint rule', 409: 'CONFLICT: another rule already covers these methods on the same paths' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiBodyExamples(UpdateEndpointDto, { 'accept one more role': { role: ['Operator', 'Reader'] }, 'allow POST too': { method: ['GET', 'POST'] } })
  @Authenticated({ ...ADMIN, summary: 'Change an endpoint rule (fields given); effective on the next request' })
  update(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: UpdateEndpointDto, @ClientAddress() address: string): Promise<EndpointDto> {
    return this.endpoints.update(actor, id, dto, address);
  }

  @Patch(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such endpoint rule', 409: 'CONFLICT: another rule already covers these methods on the same paths' })
  @ApiOkResponse({ type: EndpointDto })
  @Authenticated({ ...ADMIN, summary: 'Change an endpoint rule (same as PUT)' })
  patch(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: UpdateEndpointDto, @ClientAddress() address: string): Promise<EndpointDto> {
    return this.endpoints.update(actor, id, dto, address);
  }

  @Delete(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such endpoint rule' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; requests it matched are refused unless another rule matches' })
  @Authenticated({ ...ADMIN, summary: 'Delete an endpoint rule' })
  async delete(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<void> {
    await this.endpoints.delete(actor, id, address);
  }
}
