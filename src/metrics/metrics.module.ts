import { Global, Module } from '@nestjs/common';
import { SessionModule } from '../auth/session.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsListener } from './metrics-listener.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus metrics: global, so any feature can count what it does with one call. */
@Global()
@Module({
  // PasswordService, whose argon2 queue is a gauge.
  imports: [SessionModule],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsListener],
  exports: [MetricsService],
})
export class MetricsModule {}
