import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '../auth/decorators/access.decorator.js';
import { ErrorCode } from '../common/error-code.js';
import { InvalidationService } from '../database/invalidation.service.js';
import { HealthIndicatorDto, NotReadyDto, ReadinessDto } from './dto/readiness.dto.js';
import { ShutdownState } from './shutdown-state.js';

@ApiTags('health')
@ApiExtraModels(HealthIndicatorDto)
@Controller('api/v1')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly invalidation: InvalidationService,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('alive')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'], example: { status: 'ok' } } })
  alive(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary: 'Readiness: 200 while the database answers (degraded when caching is off), 503 while it does not or while shutting down',
    description:
      '`status: degraded` (still 200): the invalidation listener is down, so this instance bypasses its caches and reads every token ' +
      'from the database until the listener reconnects; revocations are still enforced. 503 `status: shutting_down` from the moment ' +
      'the process gets SIGTERM, through SHUTDOWN_GRACE_SECONDS in which it still serves other requests.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto, description: 'The database is unreachable, or the process is shutting down' })
  async ready(): Promise<ReadinessDto> {
    if (this.shutdown.draining) {
      throw new ServiceUnavailableException({ code: ErrorCode.SERVICE_UNAVAILABLE, message: 'Shutting down: this instance takes no new work', status: 'shutting_down' });
    }
    let result: HealthCheckResult;
    try {
      result = await this.health.check([() => this.database.pingCheck('database', { timeout: 2000 })]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const down = error.getResponse() as HealthCheckResult;
      const listener = this.listener();
      throw new ServiceUnavailableException({
        code: ErrorCode.DATABASE_UNAVAILABLE,
        message: 'The database is unreachable',
        status: 'error',
        database: 'down',
        invalidationListener: listener.invalidationListener.status as InvalidationService['listenerState'],
        details: { ...down.details, ...listener },
      });
    }
    // One reading of the listener, after the ping: it may have gone down or come back while the ping ran.
    const listener = this.listener();
    const state = listener.invalidationListener.status as InvalidationService['listenerState'];
    const body: ReadinessDto = {
      status: state === 'down' ? 'degraded' : 'ok',
      database: 'up',
      invalidationListener: state,
      info: { ...result.info, ...(state === 'down' ? {} : listener) },
      error: { ...result.error, ...(state === 'down' ? listener : {}) },
      details: { ...result.details, ...listener },
    } as ReadinessDto;
    if (state === 'down') body.reason = `invalidation listener down (${this.invalidation.listenerProblem}): caching is off until it reconnects`;
    return body;
  }

  private listener(): HealthIndicatorResult {
    const status = this.invalidation.listenerState;
    const problem = this.invalidation.listenerProblem;
    return { invalidationListener: { status, caching: status === 'down' ? 'off' : 'on', ...(problem ? { reason: problem } : {}) } } as HealthIndicatorResult;
  }
}
