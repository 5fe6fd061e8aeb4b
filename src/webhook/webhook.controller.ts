import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { Auth, ClientAddress, type Principal } from '../auth/principal.js';
import { ApiBodyExamples } from '../common/api-body-examples.js';
import { ApiErrors } from '../common/api-errors.js';
import { IdParam } from '../common/id.pipe.js';
import { setTotalCount } from '../common/pagination.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import {
  CreateWebhookDto,
  ListDeliveriesQueryDto,
  ListWebhooksQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookEventTypeDto,
  WebhookTestDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import { WebhookService } from './webhook.service.js';

const ADMIN = { roles: [BuiltinRole.Administrator] } as const;
const TOTAL = { 'X-Total-Count': { description: 'Items, all pages', schema: { type: 'integer' } } };
const URL_REFUSED = 'VALIDATION_FAILED: a field is wrong, the url is refused (not http(s), credentials in it, or a private, loopback or metadata address not allowed by WEBHOOK_ALLOWED_HOSTS, or a name resolving to one), or the secret is not whsec_ + base64 of 24 to 64 bytes';

@ApiTags('webhook')
@Controller('api/v1/webhook')
export class WebhookController {
  constructor(private readonly webhooks: WebhookService) {}

  @Get()
  @ApiOkResponse({ type: [WebhookDto], headers: TOTAL })
  @Authenticated({ ...ADMIN, summary: 'List webhooks (secrets are never shown)' })
  async list(@Query() query: ListWebhooksQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookDto[]> {
    const [webhooks, total] = await this.webhooks.list(query);
    setTotalCount(reply, total);
    return webhooks;
  }

  @Get('events')
  @ApiOkResponse({ type: [WebhookEventTypeDto] })
  @Authenticated({ ...ADMIN, summary: 'The event types a webhook can subscribe to, each with a line on when it is sent' })
  events(): WebhookEventTypeDto[] {
    return this.webhooks.eventTypes();
  }

  @Get(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such webhook' })
  @ApiOkResponse({ type: WebhookDto })
  @Authenticated({ ...ADMIN, summary: 'Get a webhook' })
  get(@IdParam() id: number): Promise<WebhookDto> {
    return this.webhooks.get(id);
  }

  @Post()
  @ApiErrors({ 400: URL_REFUSED })
  @ApiCreatedResponse({ type: WebhookWithSecretDto, description: 'Created; the secret is shown in this answer only' })
  @ApiBodyExamples(CreateWebhookDto, {
    'revocations to a SIEM (secret generated)': { url: 'https://hooks.example.com/apptoken', events: ['apptoken.revoked', 'apptoken.revoked_used'], description: 'SIEM' },
    'everything, with a secret of your own': { url: 'https://hooks.example.com/all', events: ['*'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', enabled: true },
  })
  @Authenticated({ ...ADMIN, summary: 'Create a webhook: events are POSTed to its url, signed per Standard Webhooks' })
  create(@Auth() actor: Principal, @Body() dto: CreateWebhookDto, @ClientAddress() address: string): Promise<WebhookWithSecretDto> {
    return this.webhooks.create(actor, dto, address);
  }

  @Put(':id')
  @ApiErrors({ 400: URL_REFUSED, 404: 'NOT_FOUND: no such webhook' })
  @ApiExtraModels(WebhookWithSecretDto)
  @ApiOkResponse({
    description: 'Changed; with `secret` when this request set or generated a new one',
    schema: { oneOf: [{ $ref: getSchemaPath(WebhookDto) }, { $ref: getSchemaPath(WebhookWithSecretDto) }] },
  })
  @ApiBodyExamples(UpdateWebhookDto, {
    'pause it': { enabled: false },
    'all events': { events: ['*'] },
    'new secret (the old one signs too for 24 h)': { rotateSecret: true },
  })
  @Authenticated({ ...ADMIN, summary: 'Change a webhook (fields given). Disabling it ends its pending deliveries as failed' })
  update(@Auth() actor: Principal, @IdParam() id: number, @Body() dto: UpdateWebhookDto, @ClientAddress() address: string): Promise<WebhookDto | WebhookWithSecretDto> {
    return this.webhooks.update(actor, id, dto, address);
  }

  @Delete(':id')
  @ApiErrors({ 404: 'NOT_FOUND: no such webhook' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted, with its deliveries; nothing more is sent' })
  @Authenticated({ ...ADMIN, summary: 'Delete a webhook' })
  async delete(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<void> {
    await this.webhooks.delete(actor, id, address);
  }

  @Get(':id/deliveries')
  @ApiErrors({ 404: 'NOT_FOUND: no such webhook' })
  @ApiOkResponse({ type: [WebhookDeliveryDto], headers: TOTAL })
  @Authenticated({ ...ADMIN, summary: "A webhook's deliveries, newest first, each with its attempts and the receiver's answers" })
  async deliveries(@IdParam() id: number, @Query() query: ListDeliveriesQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookDeliveryDto[]> {
    const [deliveries, total] = await this.webhooks.deliveries(id, query);
    setTotalCount(reply, total);
    return deliveries;
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiErrors({ 400: 'VALIDATION_FAILED: the webhook is disabled', 404: 'NOT_FOUND: no such webhook' })
  @ApiAcceptedResponse({ type: WebhookTestDto, description: 'A webhook.test event is queued for this webhook (delivered, signed and retried like any other)' })
  @Authenticated({ ...ADMIN, summary: 'Send a webhook.test event to this webhook' })
  test(@Auth() actor: Principal, @IdParam() id: number, @ClientAddress() address: string): Promise<WebhookTestDto> {
    return this.webhooks.test(actor, id, address);
  }
}
