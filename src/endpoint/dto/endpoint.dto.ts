import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination.js';
import { RoleNames } from '../../common/role-list.js';
import { ANY_METHOD, HTTP_METHODS } from '../route-matcher.js';

const METHOD_VALUES = [...HTTP_METHODS, ANY_METHOD, 'ANY'];

/** An optional list of methods: a string ("GET", "GET,POST", "*") or an array, upper-cased and checked. */
const HttpMethods = () =>
  applyDecorators(
    IsOptional(),
    methodList(),
    IsArray(),
    ArrayMaxSize(8),
    IsIn(METHOD_VALUES, { each: true, message: `method must be one of ${HTTP_METHODS.join(', ')} or *` }),
  );

const methodList = () =>
  Transform(({ value }) => {
    const list = typeof value === 'string' ? value.split(',') : value;
    return Array.isArray(list) ? list.map((m) => (typeof m === 'string' ? m.trim().toUpperCase() : m)).filter((m) => m !== '') : list;
  });


export class EndpointDto {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;

  @ApiProperty({ example: '/payroll/*' })
  url: string;

  @ApiProperty({ type: [String], description: '"*": any method', example: ['GET'] })
  method: string[];

  @ApiProperty({ description: 'false: no token needed', example: true })
  authentication: boolean;

  @ApiProperty({ type: [String], description: 'A token needs one of these (Administrator does not bypass the list)', example: ['Payroll'] })
  role: string[];
}

export class CreateEndpointDto {
  @ApiProperty({ description: 'Path pattern: literal segments, :param (one segment), * last (the rest)', example: '/payroll/*' })
  @IsString()
  @MaxLength(1024)
  url: string;

  @ApiPropertyOptional({ type: [String], description: 'Methods; a string or an array; omitted or "*": any', example: ['GET', 'POST'] })
  @HttpMethods()
  method?: string[];

  @ApiPropertyOptional({ default: true, example: true })
  @IsOptional()
  @IsBoolean()
  authentication?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Roles accepted; a string or an array. Also accepted as `roles`', example: ['Payroll'] })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Same as `role`', example: ['Payroll'] })
  @RoleNames()
  roles?: string[];
}

export class UpdateEndpointDto {
  @ApiPropertyOptional({ example: '/payroll/:id' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  url?: string;

  @ApiPropertyOptional({ type: [String], example: ['GET'] })
  @HttpMethods()
  method?: string[];

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  authentication?: boolean;

  @ApiPropertyOptional({ type: [String], example: ['Payroll', 'Reader'] })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Same as `role`', example: ['Payroll'] })
  @RoleNames()
  roles?: string[];
}

export class ListEndpointsQueryDto extends PageQueryDto {}
