import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination.js';
import { WEBHOOK_EVENT_TYPES } from '../webhook-events.js';

/** `*`: every event type, those added in later versions too. */
export const ALL_EVENTS = '*';
const EVENT_VALUES = [...WEBHOOK_EVENT_TYPES, ALL_EVENTS];
const EVENTS_MESSAGE = `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')} or * (see GET /api/v1/webhook/events)`;

/** A list of event types: an array, or one string (a comma list too). */
const eventList = () =>
  Transform(({ value }) => {
    const list = typeof value === 'string' ? value.split(',') : value;
    return Array.isArray(list) ? list.map((e) => (typeof e === 'string' ? e.trim() : e)).filter((e) => e !== '') : list;
  });

const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export class WebhookDto {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;

  @ApiProperty({ example: 'https://hooks.example.com/apptoken' })
  url: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: EVENT_VALUES }, description: 'Event types delivered; `*`: all', example: ['apptoken.revoked', 'apptoken.expiring'] })
  events: string[];

  @ApiProperty({ example: 'SIEM: token revocations' })
  description: string;

  @ApiProperty({ description: 'false: nothing is queued or delivered', example: true })
  enabled: boolean;

  @ApiProperty({ description: 'Until then, the secret a PUT replaced still signs too (a second `v1,` signature)', type: String, format: 'date-time', nullable: true, example: null })
  previousSecretExpires: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T10:00:00.000Z' })
  created: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T10:00:00.000Z' })
  updated: string;
}

/** The answer that creates a secret: the only one that shows it. */
export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({ description: 'The signing secret (`whsec_` + base64). Shown only in this response: keep it now', example: EXAMPLE_SECRET })
  secret: string;
}

export class CreateWebhookDto {
  @ApiProperty({ description: 'http(s) URL the events are POSTed to; no credentials in it. Private and loopback addresses are refused unless WEBHOOK_ALLOWED_HOSTS allows them', example: 'https://hooks.example.com/apptoken' })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: EVENT_VALUES }, description: 'Event types to deliver (GET /api/v1/webhook/events), or `*` for all', example: ['apptoken.revoked', 'apptoken.revoked_used'] })
  @eventList()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsIn(EVENT_VALUES, { each: true, message: EVENTS_MESSAGE })
  events: string[];

  @ApiPropertyOptional({ description: 'Signing secret: `whsec_` + base64 of 24 to 64 random bytes. Omitted: one is generated (32 bytes) and returned once', example: EXAMPLE_SECRET })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  secret?: string;

  @ApiPropertyOptional({ default: '', example: 'SIEM: token revocations' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiPropertyOptional({ default: true, example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ example: 'https://hooks.example.com/apptoken/v2' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ type: 'array', items: { type: 'string', enum: EVENT_VALUES }, example: ['*'] })
  @IsOptional()
  @eventList()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @IsIn(EVENT_VALUES, { each: true, message: EVENTS_MESSAGE })
  events?: string[];

  @ApiPropertyOptional({ description: 'A new signing secret (returned in this response). The old one keeps signing beside it for 24 hours', example: EXAMPLE_SECRET })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  secret?: string;

  @ApiPropertyOptional({ description: 'true: generate a new secret (returned in this response); the old one keeps signing beside it for 24 hours', example: true })
  @IsOptional()
  @IsBoolean()
  rotateSecret?: boolean;

  @ApiPropertyOptional({ example: 'SIEM' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;

  @ApiPropertyOptional({ description: 'false: stop; pending deliveries end as failed and no new ones are queued', example: false })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class ListWebhooksQueryDto extends PageQueryDto {}

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'], example: 'failed' })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed'])
  status?: 'pending' | 'delivered' | 'failed';
}

export class WebhookEventTypeDto {
  @ApiProperty({ example: 'apptoken.revoked' })
  type: string;

  @ApiProperty({ example: 'A token was revoked (by a user, a rotation ending, or with the token it was granted with).' })
  description: string;
}

export class WebhookAttemptDto {
  @ApiProperty({ type: 'integer', example: 1 })
  attempt: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T10:00:00.000Z' })
  at: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The receiver\'s HTTP status; null when none came (timeout, refused, network error)', example: 500 })
  statusCode: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'The start of the receiver\'s answer (up to 1,024 characters)', example: 'upstream unavailable' })
  responseBody: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  error: string | null;

  @ApiProperty({ type: 'integer', example: 31 })
  durationMs: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ example: '42' })
  id: string;

  @ApiProperty({ description: 'The `webhook-id` header: the same on every attempt', example: 'msg_0f3c6c1f2b7a4e0e9a3d5b8c1e2f4a6b' })
  messageId: string;

  @ApiProperty({ example: 'apptoken.revoked' })
  eventType: string;

  @ApiProperty({ enum: ['pending', 'delivered', 'failed'], example: 'delivered' })
  status: string;

  @ApiProperty({ type: 'integer', description: 'Attempts made so far', example: 2 })
  attemptCount: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it is tried next (pending only)', example: null })
  nextAttempt: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T10:00:00.000Z' })
  created: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-11-29T10:00:05.000Z' })
  completed: string | null;

  @ApiProperty({ type: [WebhookAttemptDto] })
  attempts: WebhookAttemptDto[];
}

export class WebhookTestDto {
  @ApiProperty({ description: 'The `webhook-id` of the queued test event; follow it in the deliveries', example: 'msg_0f3c6c1f2b7a4e0e9a3d5b8c1e2f4a6b' })
  messageId: string;
}
