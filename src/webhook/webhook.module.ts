import { Module } from '@nestjs/common';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookHousekeepingService } from './webhook-housekeeping.service.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookController } from './webhook.controller.js';
import { WebhookRepository } from './webhook.repository.js';
import { WebhookService } from './webhook.service.js';

/** Webhooks: their API, and the delivery of the outbox (src/database/outbox.ts) to them. */
@Module({
  controllers: [WebhookController],
  providers: [WebhookRepository, WebhookSender, WebhookService, WebhookDispatcher, WebhookHousekeepingService],
})
export class WebhookModule {}
