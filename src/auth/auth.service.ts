import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AuditAction, AuditService } from '../audit/audit.service.js';
import { ConcurrencyLimit } from '../common/concurrency-limit.js';
import { ApiException, ErrorCode } from '../common/error-code.js';
import { sha256 } from '../common/crypto.js';
import type { IdentityDto } from '../identity/dto/identity.dto.js';
import { identityNameKey } from '../identity/identity-name.js';
import { identityDtoOf } from '../identity/identity.mapper.js';
import { IdentityRepository } from '../identity/identity.repository.js';
import { InitialAdminPassword } from '../identity/initial-admin-password.js';
import type { SigninDto } from './dto/signin.dto.js';
import { HASHING_CONCURRENCY, HASHING_QUEUE, PasswordService } from './password.service.js';
import type { Principal } from './principal.js';
import { SessionService } from './session.service.js';
import { SigninThrottleService } from './signin-throttle.service.js';

const SIGNIN_FAILED = 'Invalid user name or password';
/**
 * Sign-ins in progress at once. Each holds a database connection for its throttle, lookup and audit
 * statements; without a cap a flood of attempts (even throttled ones, which never hash) takes the whole
 * pool and every other request queues behind it. Twice the hashing slots, so one attempt's statements
 * overlap another's hash.
 */
export const SIGNIN_CONCURRENCY = 2 * HASHING_CONCURRENCY;
/** Places one client address may hold among the sign-ins in progress and waiting, so one client cannot fill the queue. */
export const SIGNINS_PER_ADDRESS = 4;

export class SigninThrottledException extends ApiException {
  constructor(readonly retryAfterSeconds: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.THROTTLED, `Too many failed sign-ins; try again in ${retryAfterSeconds} seconds`, { errorMessage: 'Too many failed sign-ins' });
  }
}

export class SigninsInProgressException extends ApiException {
  readonly retryAfterSeconds = 1;
  constructor() {
    super(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.THROTTLED, 'Too many sign-ins in progress from this address; retry in a second', { errorMessage: 'Too many sign-ins in progress' });
  }
}

export interface SigninResult {
  identity: IdentityDto;
  /** For the cookie only; never logged or returned in a body. */
  sessionSecret: string;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly inProgress = new ConcurrencyLimit(SIGNIN_CONCURRENCY, HASHING_QUEUE);
  /** Sign-ins in progress or waiting, per client address. */
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly identities: IdentityRepository,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly throttle: SigninThrottleService,
    private readonly audit: AuditService,
    private readonly initialAdminPassword: InitialAdminPassword,
  ) {}

  /**
   * Checks a user name and password. Unknown users, users without a password, disabled users and
   * wrong passwords all run one argon2 verification and get the same 401, so neither the message nor
   * the time tells whether the user exists.
   */
  async signin(dto: SigninDto, address: string, userAgent: string | undefined): Promise<SigninResult> {
    const held = this.perAddress.get(address) ?? 0;
    if (held >= SIGNINS_PER_ADDRESS) throw new SigninsInProgressException();
    this.perAddress.set(address, held + 1);
    try {
      return await this.inProgress.run(() => this.attempt(dto, address, userAgent));
    } finally {
      const left = this.perAddress.get(address)! - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    }
  }

  private async attempt(dto: SigninDto, address: string, userAgent: string | undefined): Promise<SigninResult> {
    const nameKey = identityNameKey(dto.username.trim());
    const throttleKey = sha256(nameKey);
    const reservation = await this.throttle.reserve(throttleKey, address);
    if ('retryAfterSeconds' in reservation) {
      // Not audited one by one: a flood of throttled attempts must not become a flood of writes.
      // The user name's key (a SHA-256 of its folded form), never the name itself: it may be a mistyped password.
      this.logger.warn({ address, usernameKey: throttleKey.toString('hex'), retryAfter: reservation.retryAfterSeconds }, 'sign-in throttled');
      throw new SigninThrottledException(reservation.retryAfterSeconds);
    }
    const identity = await this.identities.getForSignin(nameKey);
    const passwordMatches = await this.passwords.verify(identity?.passwordHash ?? null, dto.password);
    if (!identity || !passwordMatches || identity.disabled) {
      // The reserved attempt stays: it is this failure.
      const reason = !identity ? 'unknown user' : !passwordMatches ? 'wrong password' : 'identity disabled';
      await this.audit.record({
        action: AuditAction.SigninFailed,
        // The attempted name is kept only when it is a real identity: it may be a password typed in the wrong box.
        actor: identity ? { identityId: identity.id, name: identity.name } : undefined,
        targetIdentity: identity ? { id: identity.id, name: identity.name } : undefined,
        address,
        detail: { reason },
      });
      throw new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_CREDENTIALS, SIGNIN_FAILED, { errorMessage: SIGNIN_FAILED });
    }
    await this.throttle.release(reservation.attempt);
    const { secret } = await this.sessions.create(identity.id, address, userAgent);
    await this.audit.record({
      action: AuditAction.SigninSucceeded,
      actor: { identityId: identity.id, name: identity.name },
      targetIdentity: { id: identity.id, name: identity.name },
      address,
    });
    await this.initialAdminPassword.discardIfUsed(dto.password);
    return { identity: identityDtoOf(identity), sessionSecret: secret };
  }

  async signout(principal: Principal, address: string): Promise<void> {
    if (!principal.sessionId) {
      throw new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'Sign-out ends a sign-in session; an app token is ended by revoking it (POST /api/v1/apptoken/{id}/revoke)');
    }
    await this.sessions.delete(principal.sessionId);
    await this.audit.record({ action: AuditAction.Signout, actor: principal, targetIdentity: { id: principal.identityId, name: principal.name }, address });
  }
}
