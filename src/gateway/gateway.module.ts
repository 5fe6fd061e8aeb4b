import { Module } from '@nestjs/common';
import { AppTokenModule } from '../app-token/app-token.module.js';
import { EndpointModule } from '../endpoint/endpoint.module.js';
import { ForwardAuthService } from './forward-auth.service.js';
import { GatewayController } from './gateway.controller.js';

/** The routes gateways and resource servers call: forward-auth (endpoint rules) and RFC 7662 introspection. */
@Module({
  imports: [AppTokenModule, EndpointModule],
  controllers: [GatewayController],
  providers: [ForwardAuthService],
})
export class GatewayModule {}
