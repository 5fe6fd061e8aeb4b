import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RoleModule } from '../role/role.module.js';
import { EndpointRuleEntity } from './endpoint-rule.entity.js';
import { EndpointRules } from './endpoint-rules.js';
import { EndpointController } from './endpoint.controller.js';
import { EndpointService } from './endpoint.service.js';

/** Custom API endpoint rules: their API, and the compiled rules the gateway applies. */
@Module({
  imports: [TypeOrmModule.forFeature([EndpointRuleEntity]), RoleModule],
  controllers: [EndpointController],
  providers: [EndpointService, EndpointRules],
  exports: [EndpointRules],
})
export class EndpointModule {}
