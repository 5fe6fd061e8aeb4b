import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/decorators/access.decorator.js';
import { setTotalCount } from '../common/pagination.js';
import { BuiltinRole } from '../role/builtin-roles.js';
import { AuditService } from './audit.service.js';
import { AuditEventDto, ListAuditQueryDto } from './dto/audit.dto.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ type: [AuditEventDto], headers: { 'X-Total-Count': { description: 'Events matching, all pages', schema: { type: 'integer' } } } })
  @Authenticated({ roles: [BuiltinRole.Administrator], summary: 'The audit trail, newest first' })
  async list(@Query() query: ListAuditQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuditEventDto[]> {
    const [events, total] = await this.audit.list(query);
    setTotalCount(reply, total);
    return events;
  }
}
