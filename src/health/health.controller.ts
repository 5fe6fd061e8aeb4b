import { Controller, Get, Headers, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '../auth/decorators/access.decorator.js';
import { ErrorCode } from '../common/error-code.js';
import { InvalidationService } from '../database/invalidation.service.js';
import { HealthIndicatorDto, NotReadyDto, ReadinessDto } from './dto/readiness.dto.js';
import { SERVER_VERSION, wantsPlainText } from './server-version.js';
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

  /** PSU's name for readiness (its high-availability docs point load balancers here): the same checks and answers. */
  @Get('status')
  @Public()
  @ApiOperation({
    summary: "Node status for load balancers, as PSU's /api/v1/status: 200 ready, 503 not (the database is unreachable, or shutting down)",
    description: 'The same checks and bodies as `GET /api/v1/ready`, under the path PowerShell Universal documents for high availability.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto, description: 'The database is unreachable, or the process is shutting down' })
  status(): Promise<ReadinessDto> {
    return this.ready();
  }

  /**
   * A bare version string, as PSU answers: its VS Code extension passes the body straight to compareVersions(),
   * which throws on anything but a string.
   */
  @Get('version')
  @Public()
  @ApiOperation({
    summary: "The server's version, as PSU's /api/v1/version (its VS Code extension reads it)",
    description: 'A JSON string (`"0.1.0"`); plain text (`0.1.0`) when the request accepts text/plain and not JSON.',
  })
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({ schema: { type: 'string', example: '0.1.0' }, description: 'The version (semantic versioning)' })
  version(@Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): string {
    if (wantsPlainText(accept)) {
      reply.type('text/plain; charset=utf-8');
      return SERVER_VERSION;
    }
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(SERVER_VERSION);
  }

  private listener(): HealthIndicatorResult {
    const status = this.invalidation.listenerState;
    const problem = this.invalidation.listenerProblem;
    return { invalidationListener: { status, caching: status === 'down' ? 'off' : 'on', ...(problem ? { reason: problem } : {}) } } as HealthIndicatorResult;
  }
}
