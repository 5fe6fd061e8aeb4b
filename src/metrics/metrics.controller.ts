import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { ErrorResponseDto } from '../common/error-response.dto.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'Prometheus metrics, in the text exposition format' })
  // Only the 200 is text: the errors are JSON error bodies like everywhere else.
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string', example: 'apptoken_http_requests_total{method="GET",route="/api/v1/alive",status="200"} 3\n' } } },
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Metrics are off (METRICS_ENABLED=false)' })
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    if (!this.metrics.enabled) throw new NotFoundException('Metrics are off (METRICS_ENABLED=false)');
    const { contentType, text } = await this.metrics.scrape();
    void reply.header('Cache-Control', 'no-store').type(contentType).send(text);
  }
}
