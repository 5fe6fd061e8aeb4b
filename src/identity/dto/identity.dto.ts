import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { PageQueryDto } from '../../common/pagination.js';
import { RoleNames } from '../../common/role-list.js';
import type { IdentitySource } from '../../auth/principal.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../auth/password.service.js';
import { IDENTITY_NAME_MESSAGE, IDENTITY_NAME_PATTERN } from '../identity-name.js';


const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class IdentityDto {
  @ApiProperty({ type: 'integer', example: 2 })
  id: number;

  @ApiProperty({ example: 'adam@ironmansoftware.onmicrosoft.com' })
  name: string;

  @ApiProperty({ enum: ['local', 'service', 'migrated'], example: 'local' })
  source: IdentitySource;

  @ApiProperty({ description: 'Roles joined with ", ", as PSU shows them', example: 'Operator' })
  role: string;

  @ApiProperty({ type: [String], example: ['Operator'] })
  roles: string[];

  @ApiProperty({ example: false })
  disabled: boolean;

  @ApiProperty({ description: 'True when the identity can sign in with a password', example: true })
  hasPassword: boolean;

  @ApiProperty({ example: '2026-11-28T17:24:25.000Z' })
  created: string;

  @ApiProperty({ example: '2026-11-28T17:24:25.000Z' })
  updated: string;
}

/** The caller, with the roles in effect for this request (for a token: its roles the identity still holds). */
export class MyIdentityDto extends IdentityDto {
  @ApiProperty({ enum: ['session', 'token'], example: 'session' })
  authenticatedBy: 'session' | 'token';

  @ApiPropertyOptional({ type: 'integer', description: 'Id of the app token used, when authenticated by one', example: 3, nullable: true })
  tokenId: number | null;
}

export class CreateIdentityDto {
  @ApiProperty({ example: 'payroll-bot', maxLength: 256 })
  @trim()
  @IsString()
  @Matches(IDENTITY_NAME_PATTERN, { message: IDENTITY_NAME_MESSAGE })
  name: string;

  @ApiPropertyOptional({
    enum: ['local', 'service'],
    default: 'local',
    description: 'local: signs in with a password; service: no password, used through app tokens only',
    example: 'service',
  })
  @IsOptional()
  @IsIn(['local', 'service'], { message: 'source must be local or service' })
  source?: 'local' | 'service';

  @ApiPropertyOptional({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, description: 'Required for local identities', example: 'correct horse battery staple' })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, { message: `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` })
  password?: string;

  @ApiPropertyOptional({ type: [String], description: 'Role names; also accepted as `role`, an array or a comma-joined string', example: ['Operator'] })
  @RoleNames()
  roles?: string[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Same as `roles` (PSU spelling); "Operator, Reader" or ["Operator"]', example: 'Operator' })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ default: false, example: false })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class UpdateIdentityDto {
  @ApiPropertyOptional({ example: 'payroll-bot-2' })
  @IsOptional()
  @trim()
  @IsString()
  @Matches(IDENTITY_NAME_PATTERN, { message: IDENTITY_NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional({ description: 'New password (local identities); ends the identity\'s sessions', example: 'another long passphrase' })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, { message: `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` })
  password?: string;

  @ApiPropertyOptional({ type: [String], description: 'Replaces the role set', example: ['Reader'] })
  @RoleNames()
  roles?: string[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Same as `roles` (PSU spelling)', example: 'Reader' })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ description: 'Disabling ends the identity\'s sessions and stops its tokens', example: true })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class ListIdentitiesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Part of the name, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  search?: string;
}
