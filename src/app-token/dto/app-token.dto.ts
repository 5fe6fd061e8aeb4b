import { applyDecorators, BadRequestException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { FlexibleDate } from '../../common/flexible-date.decorator.js';
import type { Expiration } from '../../common/flexible-date.js';
import { PageQueryDto } from '../../common/pagination.js';
import { RoleNames } from '../../common/role-list.js';
import { MAX_TOKEN_BYTES } from '../token-codec.js';

const MAX_LIFESPAN_DAYS = 36500;
const LIFETIME_IN_DAYS_DESCRIPTION = "PSU's other name for `lifespanDays` (its issues use both); giving both is fine only with the same value";

/** `lifespanDays`, or the same setting under PSU's other name, `lifetimeInDays`: both only when they agree. */
export function lifespanDaysOf(dto: { lifespanDays?: number; lifetimeInDays?: number }): number | undefined {
  if (dto.lifespanDays !== undefined && dto.lifetimeInDays !== undefined && dto.lifespanDays !== dto.lifetimeInDays) {
    throw new BadRequestException(`lifespanDays (${dto.lifespanDays}) and lifetimeInDays (${dto.lifetimeInDays}) name the same setting and disagree; give one of them`);
  }
  return dto.lifespanDays ?? dto.lifetimeInDays;
}

export const TOKEN_SORT_FIELDS = ['created', 'expiration', 'lastUsed', 'identity', 'description'] as const;
export type TokenSortField = (typeof TOKEN_SORT_FIELDS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** true/false in any letter case (PowerShell interpolates $true as "True"), or 1/0. */
const booleanQuery = () =>
  Transform(({ value }) => {
    const text = typeof value === 'string' ? value.toLowerCase() : value;
    return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : value;
  });

/** The identity inside a token response, as PSU shows it. */
export class TokenIdentityDto {
  @ApiProperty({ type: 'integer', example: 3 })
  id: number;

  @ApiProperty({ example: 'admin' })
  name: string;

  @ApiProperty({ enum: ['local', 'service', 'migrated'], example: 'local' })
  source: string;

  @ApiProperty({ description: "The identity's roles, comma-joined", example: 'Administrator, Operator, Reader' })
  role: string;
}

/** An app token, shaped as PSU returns it (camelCase). */
export class AppTokenDto {
  @ApiProperty({ type: 'integer', example: 3 })
  id: number;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The token: only in the response that creates it (and always when enhanced security is off)',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ...',
  })
  token: string | null;

  @ApiProperty({ type: TokenIdentityDto })
  identity: TokenIdentityDto;

  @ApiProperty({ example: false })
  revoked: boolean;

  @ApiProperty({ example: 'Administrator, Operator, Reader' })
  role: string;

  @ApiProperty({ type: [String], example: ['Administrator', 'Operator', 'Reader'] })
  roles: string[];

  @ApiProperty({ example: '2026-11-28T17:24:25.000Z' })
  created: string;

  @ApiProperty({ nullable: true, type: String, description: 'null: never expires', example: '2027-11-28T17:24:25.000Z' })
  expiration: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'When it was revoked (or, during a rotation grace period, will be)', example: null })
  revokedDate: string | null;

  @ApiProperty({ example: 'CI pipeline' })
  description: string;

  @ApiProperty({ nullable: true, type: String, description: 'When the token was last used: recorded at most once a minute (uses are written in batches), so up to a minute behind', example: '2026-11-28T18:00:00.000Z' })
  lastUsed: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The client address of that last use (behind a trusted proxy, the forwarded one); recorded with `lastUsed`, at most once a minute',
    example: '203.0.113.7',
  })
  lastUsedAddress: string | null;
}

export class GrantQueryDto {
  @ApiPropertyOptional({ type: [String], description: 'A subset of the roles to put in the token (repeat, or comma-separate); default: all the caller holds' })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIFESPAN_DAYS, description: 'Days the token lives; also accepted as `lifetimeInDays`', example: 30 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'lifespanDays must be a whole number of days' })
  @Min(1)
  @Max(MAX_LIFESPAN_DAYS)
  lifespanDays?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIFESPAN_DAYS, description: LIFETIME_IN_DAYS_DESCRIPTION, example: 30 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'lifetimeInDays must be a whole number of days' })
  @Min(1)
  @Max(MAX_LIFESPAN_DAYS)
  lifetimeInDays?: number;

  @ApiPropertyOptional({ type: String, description: 'ISO 8601 date (e.g. 2027-06-30T00:00:00Z), or "never"; instead of lifespanDays' })
  @IsOptional()
  @FlexibleDate({ allowNever: true })
  expiration?: Expiration;

  @ApiPropertyOptional({ maxLength: 1024, description: 'What the token is for' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;
}

export class IdentityRefDto {
  @ApiPropertyOptional({ type: 'integer', example: 2 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  id?: number;

  @ApiPropertyOptional({ example: 'adam@ironmansoftware.onmicrosoft.com' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description:
      "PSU's system identity (Administrators): the service identity named by `name`. When none has that name it is created " +
      '(source `service`, no password, holding the roles asked for) in the same transaction as the grant. The token is the ' +
      "service's own: not bounded by, nor revoked with, the app token the grant is made with. An existing identity must be a service identity (409 otherwise)",
    example: true,
  })
  @IsOptional()
  @IsBoolean({ message: 'identity.system must be true or false' })
  system?: boolean;
}

export class GrantBodyDto {
  @ApiPropertyOptional({ type: IdentityRefDto, description: 'Whom the token is for (by id or name); omitted: the caller' })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdentityRefDto)
  identity?: IdentityRefDto;

  @ApiPropertyOptional({ type: [String], description: 'Roles to put in the token; default: all the identity\'s roles. Also accepted as `role`', example: ['Operator'] })
  @RoleNames()
  roles?: string[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Same as `roles`: an array or a comma-joined string', example: 'Operator' })
  @RoleNames()
  role?: string[];

  @ApiPropertyOptional({ type: String, description: 'ISO 8601 date, "never", or a Windows PowerShell 5.1 date object', example: '2027-06-30T00:00:00Z' })
  @IsOptional()
  @FlexibleDate({ allowNever: true })
  expiration?: Expiration;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIFESPAN_DAYS, description: 'Days the token lives; also accepted as `lifetimeInDays`', example: 90 })
  @IsOptional()
  @IsInt({ message: 'lifespanDays must be a whole number of days' })
  @Min(1)
  @Max(MAX_LIFESPAN_DAYS)
  lifespanDays?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIFESPAN_DAYS, description: LIFETIME_IN_DAYS_DESCRIPTION, example: 90 })
  @IsOptional()
  @IsInt({ message: 'lifetimeInDays must be a whole number of days' })
  @Min(1)
  @Max(MAX_LIFESPAN_DAYS)
  lifetimeInDays?: number;

  @ApiPropertyOptional({ maxLength: 1024, example: 'payroll nightly job' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;
}

export class MigrationIdentityDto {
  @ApiProperty({ example: 'Admin' })
  @IsString()
  @MaxLength(256)
  name: string;
}

/** PSU's migration body: `{Token, Identity: {Name}, Role, Expiration}`, property names in any case. */
export class MigrateTokenDto {
  @ApiProperty({ description: 'The token minted by PSU or another instance with the same signing key', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ...' })
  @IsString()
  @MaxLength(MAX_TOKEN_BYTES)
  token: string;

  @ApiProperty({ type: MigrationIdentityDto })
  @ValidateNested()
  @Type(() => MigrationIdentityDto)
  identity: MigrationIdentityDto;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: "The token's roles: a string, comma-joined string or array; must match its role claim", example: 'Administrator' })
  @RoleNames({ optional: false })
  role: string[];

  @ApiPropertyOptional({ type: String, description: 'ISO 8601 (up to 7 fractional digits) or a Windows PowerShell 5.1 date object', example: '2027-05-28T17:24:25.1234567+02:00' })
  @IsOptional()
  @FlexibleDate({ allowNever: true })
  expiration?: Expiration;
}

export class RotateTokenDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 604800, default: 0, description: 'Seconds the old token keeps working (at most 7 days)', example: 300 })
  @IsOptional()
  @IsInt({ message: 'graceSeconds must be a whole number' })
  @Min(0)
  @Max(604800)
  graceSeconds?: number;
}

/** The longest look-ahead or look-back a lifecycle filter takes, in days (100 years, as the longest lifespan). */
export const MAX_FILTER_DAYS = MAX_LIFESPAN_DAYS;

/** An optional whole number of days, 1 to MAX_FILTER_DAYS; a query string's text converted first (a JSON body must send a number). */
export function WholeDays(name: string, from: 'query' | 'body' = 'query'): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    ...(from === 'query' ? [Type(() => Number)] : []),
    IsInt({ message: `${name} must be a whole number of days` }),
    Min(1, { message: `${name} must be at least 1` }),
    Max(MAX_FILTER_DAYS, { message: `${name} must be at most ${MAX_FILTER_DAYS}` }),
  );
}

export class ListTokensQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description:
      "Only this identity's tokens, by id or name (case-insensitive). For Administrators; anyone else only ever sees their own tokens, so naming another identity finds nothing",
    example: 'payroll-bot',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  identity?: string;

  @ApiPropertyOptional({ type: Boolean, description: 'true: only revoked tokens (a rotated token in its grace period is not revoked yet); false: only tokens not revoked. Also True/False in any case, or 1/0' })
  @IsOptional()
  @booleanQuery()
  @IsBoolean({ message: 'revoked must be true or false' })
  revoked?: boolean;

  @ApiPropertyOptional({ type: Boolean, description: 'true: only expired tokens; false: only tokens not expired (never-expiring ones included). Also True/False in any case, or 1/0' })
  @IsOptional()
  @booleanQuery()
  @IsBoolean({ message: 'expired must be true or false' })
  expired?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_FILTER_DAYS,
    description: 'Only tokens that expire within this many days from now and have not expired yet; a never-expiring token never matches. Add revoked=false to leave out revoked ones',
    example: 30,
  })
  @WholeDays('expiresWithinDays')
  expiresWithinDays?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_FILTER_DAYS,
    description:
      'Only tokens last used more than this many days ago; a token never used counts from its creation. Uses are recorded at most once a minute (see lastUsed)',
    example: 90,
  })
  @WholeDays('unusedForDays')
  unusedForDays?: number;

  @ApiPropertyOptional({ maxLength: 64, description: 'Only tokens holding this role (its name, case-insensitive); an unknown role finds nothing', example: 'Operator' })
  @IsOptional()
  @IsString({ message: 'role must be one role name' })
  @MaxLength(64)
  role?: string;

  @ApiPropertyOptional({ description: 'Text in the description or the identity name (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  search?: string;

  @ApiPropertyOptional({ enum: TOKEN_SORT_FIELDS, default: 'created', description: 'The column to order by (ties: by id, in the same direction)' })
  @IsOptional()
  @IsIn(TOKEN_SORT_FIELDS, { message: `sort must be one of ${TOKEN_SORT_FIELDS.join(', ')}` })
  sort?: TokenSortField;

  @ApiPropertyOptional({ enum: SORT_ORDERS, default: 'desc' })
  @IsOptional()
  @IsIn(SORT_ORDERS, { message: 'order must be asc or desc' })
  order?: SortOrder;
}

/** What the console needs to offer lifetimes a grant will accept. */
export class LifetimePolicyDto {
  @ApiProperty({ type: 'integer', description: 'Days a grant that names no lifetime gets (APP_TOKEN_DEFAULT_LIFETIME_DAYS, capped to the maximum)', example: 365 })
  defaultLifetimeDays: number;

  @ApiProperty({ nullable: true, type: 'integer', description: 'APP_TOKEN_MAX_LIFETIME_DAYS; null: no maximum, and "never" is allowed', example: null })
  maxLifetimeDays: number | null;
}

