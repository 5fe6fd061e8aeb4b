import { Injectable } from '@nestjs/common';
import { IdentityRepository } from '../identity/identity.repository.js';
import type { Principal } from './principal.js';
import { SessionService } from './session.service.js';

/** Establishes who a request comes from. */
@Injectable()
export class PrincipalService {
  constructor(
    private readonly sessions: SessionService,
    private readonly identities: IdentityRepository,
  ) {}

  /** The principal of a session cookie, or null when the session is gone, expired, or its identity disabled. */
  async fromSession(secret: string): Promise<Principal | null> {
    const session = await this.sessions.resolve(secret);
    if (!session) return null;
    const identity = await this.identities.getForPrincipal(session.identityId);
    if (!identity || identity.disabled) return null;
    return {
      identityId: identity.id,
      name: identity.name,
      source: identity.source,
      roles: identity.roles,
      via: 'session',
      sessionId: session.id,
      identity: identity.facts,
    };
  }
}
