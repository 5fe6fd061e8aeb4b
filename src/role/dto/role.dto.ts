import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import { ROLE_NAME_PATTERN, roleNameKeyProblem } from '../role-name.js';

const ROLE_NAME_MESSAGE = 'name must be 1 to 64 letters, digits, spaces or ._- and start with a letter or digit (no commas)';
const nfkcTrim = () => Transform(({ value }) => (typeof value === 'string' ? value.normalize('NFKC').trim() : value));
/** The folded form (look-alikes, case, accents) must fit its column: 400 rather than a database error. */
const FoldsToKey = () =>
  ValidateBy({
    name: 'roleNameFolds',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || roleNameKeyProblem(value) === undefined,
      defaultMessage: (args) => roleNameKeyProblem(String(args?.value)) ?? 'name cannot be folded',
    },
  });

export class RoleDto {
  @ApiProperty({ type: 'integer', example: 4 })
  id: number;

  @ApiProperty({ example: 'Payroll' })
  name: string;

  @ApiProperty({ example: 'Calls the payroll API' })
  description: string;

  @ApiProperty({ description: 'Administrator, Operator and Reader are built in and cannot be changed', example: false })
  builtin: boolean;

  @ApiProperty({ example: '2026-11-28T17:24:25.000Z' })
  created: string;
}

export class CreateRoleDto {
  @ApiProperty({ example: 'Payroll', maxLength: 64 })
  @nfkcTrim()
  @IsString()
  @Matches(ROLE_NAME_PATTERN, { message: ROLE_NAME_MESSAGE })
  @FoldsToKey()
  name: string;

  @ApiPropertyOptional({ example: 'Calls the payroll API', maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;
}

export class UpdateRoleDto {
  @ApiPropertyOptional({ description: 'New name (rename)', example: 'Payroll Admins' })
  @IsOptional()
  @nfkcTrim()
  @IsString()
  @Matches(ROLE_NAME_PATTERN, { message: ROLE_NAME_MESSAGE })
  @FoldsToKey()
  name?: string;

  @ApiPropertyOptional({ example: 'Calls and configures the payroll API' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;
}
