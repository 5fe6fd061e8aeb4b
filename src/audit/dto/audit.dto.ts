import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IDENTITY_NAME_MESSAGE, IDENTITY_NAME_PATTERN } from '../../identity/identity-name.js';
import { FlexibleDate } from '../../common/flexible-date.decorator.js';
import { PageQueryDto } from '../../common/pagination.js';

export class AuditIdentityRefDto {
  @ApiProperty({ type: 'integer', example: 1, nullable: true, description: 'Null once the identity is deleted' })
  id: number | null;

  @ApiProperty({ type: String, example: 'admin', nullable: true })
  name: string | null;
}

export class AuditEventDto {
  @ApiProperty({ type: 'integer', example: 42 })
  id: number;

  @ApiProperty({ example: '2026-11-28T17:24:25.000Z' })
  at: string;

  @ApiProperty({ example: 'apptoken.revoked' })
  action: string;

  @ApiPropertyOptional({ type: AuditIdentityRefDto, nullable: true, description: 'Who did it; null for the system or an unknown user' })
  actor: AuditIdentityRefDto | null;

  @ApiPropertyOptional({ type: AuditIdentityRefDto, nullable: true })
  targetIdentity: AuditIdentityRefDto | null;

  @ApiPropertyOptional({ type: 'integer', example: 3, nullable: true })
  targetTokenId: number | null;

  @ApiPropertyOptional({ type: String, example: '10.0.0.7', nullable: true })
  address: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { reason: 'wrong password' }, nullable: true, description: 'What else is known of the event; its fields depend on the action' })
  detail: Record<string, unknown> | null;
}

export class ListAuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Action, or a prefix ending in "." (e.g. "signin.")' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z._]{1,64}$/, { message: 'action must be lower-case letters, dots and underscores' })
  action?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Events whose target is this identity id' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  identity?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Events about this app token id' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  token?: number;

  @ApiPropertyOptional({ type: String, description: 'Events at or after this time (ISO 8601)', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @FlexibleDate({ allowNever: false })
  since?: Date;

  @ApiPropertyOptional({ type: String, description: 'Events at or before this time (ISO 8601), to the millisecond: an event\'s own `at` includes it; not before `since`', example: '2026-11-30T23:59:59.999Z' })
  @IsOptional()
  @FlexibleDate({ allowNever: false })
  until?: Date;

  @ApiPropertyOptional({
    description:
      'Events done by this identity: its id, or its name (case-insensitive). A name matches the identity now holding it and the name ' +
      'recorded at the time, so deleted or renamed identities are still found; digits match both an id and a name',
    example: 'admin',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @Matches(IDENTITY_NAME_PATTERN, { message: `actor: ${IDENTITY_NAME_MESSAGE}` })
  actor?: string;
}
