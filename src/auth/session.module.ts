import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PasswordService } from './password.service.js';
import { SessionHousekeepingService } from './session-housekeeping.service.js';
import { SessionEntity } from './session.entity.js';
import { SessionService } from './session.service.js';
import { SigninFailureEntity } from './signin-failure.entity.js';
import { SigninThrottleService } from './signin-throttle.service.js';

/** Sessions, passwords and sign-in throttling: what identities and sign-in both need. */
@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity, SigninFailureEntity])],
  providers: [SessionService, PasswordService, SigninThrottleService, SessionHousekeepingService],
  exports: [SessionService, PasswordService, SigninThrottleService],
})
export class SessionModule {}
