import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/error-response.dto.js';

export type ListenerState = 'up' | 'down' | 'embedded';

/** One checked dependency, as @nestjs/terminus reports it. */
export class HealthIndicatorDto {
  @ApiProperty({ enum: ['up', 'down', 'embedded'], example: 'up' })
  status: string;

  @ApiProperty({ required: false, type: 'integer', description: 'Database round trip of the check, in milliseconds', example: 2 })
  responseTime?: number;

  @ApiProperty({ required: false, enum: ['on', 'off'], description: 'Invalidation listener only: whether token and identity caches are used' })
  caching?: 'on' | 'off';

  @ApiProperty({ required: false, description: 'Why the dependency is down', example: 'connection ended' })
  reason?: string;
}

const UP = { database: { status: 'up', responseTime: 2 }, invalidationListener: { status: 'up', caching: 'on' } };
const INDICATORS = { type: 'object', additionalProperties: { $ref: '#/components/schemas/HealthIndicatorDto' } } as const;

/**
 * 200 from `/api/v1/ready`. The terminus shape (`status`, `info`, `error`, `details`) is kept, with the
 * dependencies' states also at the top level for scripts and balancers that read one field.
 */
export class ReadinessDto {
  @ApiProperty({
    enum: ['ok', 'degraded'],
    description: '`degraded`: ready, but the invalidation listener is down, so caches are bypassed (every request reads the database) until it reconnects',
    example: 'ok',
  })
  status: 'ok' | 'degraded';

  @ApiProperty({ enum: ['up'], example: 'up' })
  database: 'up';

  @ApiProperty({
    enum: ['up', 'down', 'embedded'],
    description: "The LISTEN connection that carries other instances' revocations; `embedded` (PGlite, one process) needs none",
    example: 'up',
  })
  invalidationListener: ListenerState;

  @ApiProperty({ required: false, description: 'Present when degraded: what is wrong', example: 'invalidation listener down (connection ended): caching is off until it reconnects' })
  reason?: string;

  @ApiProperty({ ...INDICATORS, description: 'Dependencies that are up (or embedded)', example: UP })
  info: Record<string, HealthIndicatorDto>;

  @ApiProperty({ ...INDICATORS, description: 'Dependencies that are down', example: {} })
  error: Record<string, HealthIndicatorDto>;

  @ApiProperty({ ...INDICATORS, description: 'Every dependency', example: UP })
  details: Record<string, HealthIndicatorDto>;
}

/** 503 from `/api/v1/ready`: the database is unreachable (DATABASE_UNAVAILABLE), or the process is shutting down (SERVICE_UNAVAILABLE). */
export class NotReadyDto extends ErrorResponseDto {
  @ApiProperty({ enum: ['error', 'shutting_down'], example: 'shutting_down' })
  status: 'error' | 'shutting_down';

  @ApiProperty({ required: false, enum: ['up', 'down'], description: 'Absent while shutting down (not checked)' })
  database?: 'up' | 'down';

  @ApiProperty({ required: false, enum: ['up', 'down', 'embedded'] })
  invalidationListener?: ListenerState;

  @ApiPropertyOptional({ ...INDICATORS, example: { database: { status: 'down' }, invalidationListener: { status: 'down', caching: 'off', reason: 'connection ended' } } })
  details?: Record<string, HealthIndicatorDto>;
}
