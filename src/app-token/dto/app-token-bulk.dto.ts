import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MAX_FILTER_DAYS, WholeDays } from './app-token.dto.js';

/** The most tokens one bulk request names (`ids`) or touches (what its filter matches). */
export const MAX_BULK_TOKENS = 10_000;

/**
 * Which tokens a bulk revoke or delete acts on: every given filter must hold (AND). At least one of `ids`,
 * `identity`, `role`, `expiredOnly: true`, `revokedOnly: true`, `unusedForDays` is required; `dryRun` is not a filter.
 */
export class BulkTokensDto {
  @ApiPropertyOptional({
    type: 'integer',
    isArray: true,
    maxItems: MAX_BULK_TOKENS,
    description: `Token ids (at most ${MAX_BULK_TOKENS}). Ids a caller may not act on (another identity's, for anyone but an Administrator) or that do not exist are simply not matched`,
    example: [41, 42, 57],
  })
  @IsOptional()
  @ArrayNotEmpty({ message: 'ids must name at least one token (leave it out to select by the other filters)' })
  @ArrayMaxSize(MAX_BULK_TOKENS, { message: `ids may name at most ${MAX_BULK_TOKENS} tokens per request` })
  @IsInt({ each: true, message: 'ids must be whole numbers' })
  @Min(1, { each: true, message: 'ids must be positive' })
  @Max(2_147_483_647, { each: true, message: 'ids must be at most 2147483647' })
  // Last, so that its message is the one given for a value that is no array at all.
  @IsArray({ message: 'ids must be an array of token ids' })
  ids?: number[];

  @ApiPropertyOptional({
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    description:
      "Only this identity's tokens, by id or name (case-insensitive). Anyone but an Administrator may name only themselves (another identity: 403). An identity that does not exist: 404",
    example: 'payroll-bot',
  })
  @IsOptional()
  // An id sent as a JSON number is compared as the list's `identity` is: digits are an id.
  @Transform(({ value }) => (typeof value === 'number' && Number.isInteger(value) ? String(value) : value))
  @IsString({ message: 'identity must be an identity id or name' })
  @MaxLength(256)
  @Matches(/\S/, { message: 'identity must not be empty' })
  identity?: string;

  @ApiPropertyOptional({ maxLength: 64, description: 'Only tokens holding this role (case-insensitive). A role that does not exist: 404', example: 'Operator' })
  @IsOptional()
  @IsString({ message: 'role must be one role name' })
  @MaxLength(64)
  role?: string;

  @ApiPropertyOptional({ type: Boolean, description: 'true: only expired tokens (false is the same as leaving it out)', example: true })
  @IsOptional()
  @IsBoolean({ message: 'expiredOnly must be true or false' })
  expiredOnly?: boolean;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'true: only revoked tokens (false is the same as leaving it out). For bulk-delete: a bulk revoke of revoked tokens would do nothing, and is refused (400)',
    example: true,
  })
  @IsOptional()
  @IsBoolean({ message: 'revokedOnly must be true or false' })
  revokedOnly?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_FILTER_DAYS,
    description: 'Only tokens last used more than this many days ago; a token never used counts from its creation',
    example: 180,
  })
  @WholeDays('unusedForDays', 'body')
  unusedForDays?: number;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'true: answer what would be touched, and change nothing (no audit event, no webhook event)' })
  @IsOptional()
  @IsBoolean({ message: 'dryRun must be true or false' })
  dryRun?: boolean;
}

/** What a bulk revoke or delete did (or, in a dry run, would do). */
export class BulkTokensResultDto {
  @ApiProperty({ type: 'integer', description: 'How many tokens the filter matched and this request revoked or deleted (or would)', example: 3 })
  count: number;

  @ApiProperty({ type: 'integer', isArray: true, description: 'Their ids, ascending', example: [41, 42, 57] })
  ids: number[];

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description: 'Tokens granted with those (down the line) that end with them, as with a single revoke or delete: revoked (bulk-revoke) or removed (bulk-delete); not counted in `count`',
    example: [63],
  })
  descendantIds: number[];

  @ApiProperty({
    type: 'integer',
    isArray: true,
    description:
      'Tokens the filter matched but this request left alone: the app token it was made with lacks one of their roles (as a single revoke would answer 403). Sign in, or use a token holding those roles',
    example: [],
  })
  skippedIds: number[];

  @ApiProperty({ description: 'Whether this was a dry run (nothing changed)', example: false })
  dryRun: boolean;
}
