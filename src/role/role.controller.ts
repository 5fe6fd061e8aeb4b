import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { Auth, ClientAddress, type Principal } from '../auth/principal.js';
import { BuiltinRole } from './builtin-roles.js';
import { CreateRoleDto, RoleDto, UpdateRoleDto } from './dto/role.dto.js';
import { RoleService } from './role.service.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('role')
@Controller('api/v1/role')
export class RoleController {
  constructor(private readonly roles: RoleService) {}

  @Get()
  @ApiOkResponse({ type: [RoleDto] })
  @Authenticated({ summary: 'List roles, built-in first' })
  list(): Promise<RoleDto[]> {
    return this.roles.list();
  }

  @Get(':name')
  @ApiErrors({ 404: 'NOT_FOUND: no such role' })
  @ApiOkResponse({ type: RoleDto })
  @Authenticated({ summary: 'Get a role by name' })
  get(@Param('name') name: string): Promise<RoleDto> {
    return this.roles.get(name);
  }

  @Post()
  @ApiErrors({ 409: 'CONFLICT: a role named like it exists' })
  @ApiCreatedResponse({ type: RoleDto })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Create a custom role' })
  create(@Auth() actor: Principal, @Body() dto: CreateRoleDto, @ClientAddress() address: string): Promise<RoleDto> {
    return this.roles.create(actor, dto, address);
  }

  @Put(':name')
  @ApiErrors({ 404: 'NOT_FOUND: no such role', 409: 'CONFLICT: a built-in role, or a role named like the new name exists' })
  @ApiOkResponse({ type: RoleDto })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Rename or describe a custom role' })
  update(@Auth() actor: Principal, @Param('name') name: string, @Body() dto: UpdateRoleDto, @ClientAddress() address: string): Promise<RoleDto> {
    return this.roles.update(actor, name, dto, address);
  }

  @Patch(':name')
  @ApiErrors({ 404: 'NOT_FOUND: no such role', 409: 'CONFLICT: a built-in role, or a role named like the new name exists' })
  @ApiOkResponse({ type: RoleDto })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Rename or describe a custom role (same as PUT)' })
  patch(@Auth() actor: Principal, @Param('name') name: string, @Body() dto: UpdateRoleDto, @ClientAddress() address: string): Promise<RoleDto> {
    return this.roles.update(actor, name, dto, address);
  }

  @Delete(':name')
  @ApiErrors({ 404: 'NOT_FOUND: no such role', 409: 'CONFLICT: a built-in role, or one an endpoint rule requires' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; identities and tokens lose the role at once' })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Delete a custom role' })
  async delete(@Auth() actor: Principal, @Param('name') name: string, @ClientAddress() address: string): Promise<void> {
    await this.roles.delete(actor, name, address);
  }
}
