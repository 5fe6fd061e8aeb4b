import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppTokenModule } from '../app-token/app-token.module.js';
import { GatewayController } from '../gateway/gateway.controller.js';
import { RoleModule } from '../role/role.module.js';
import { EndpointRuleEntity } from './endpoint-rule.entity.js';
import { EndpointRules } from './endpoint-rules.js';
import { EndpointController } from './endpoint.controller.js';
import { EndpointService } from './endpoint.service.js';

/** Custom API endpoint rules, and the gateway routes that apply them (forward-auth, introspection). */
@Module({
  imports: [TypeOrmModule.forFeature([EndpointRuleEntity]), RoleModule, AppTokenModule],
  controllers: [EndpointController, GatewayController],
  providers: [EndpointService, EndpointRules],
})
export class EndpointModule {}
