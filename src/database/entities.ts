import { AppTokenTombstoneEntity } from '../app-token/app-token-tombstone.entity.js';
import { AppTokenEntity } from '../app-token/app-token.entity.js';
import { EndpointRuleEntity } from '../endpoint/endpoint-rule.entity.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { SessionEntity } from '../auth/session.entity.js';
import { SigninFailureEntity } from '../auth/signin-failure.entity.js';
import { IdentityEntity } from '../identity/identity.entity.js';
import { RoleEntity } from '../role/role.entity.js';

/** Explicit lists: globs behave differently under tsc output and jest. */
export const ENTITIES = [RoleEntity, IdentityEntity, SessionEntity, SigninFailureEntity, AuditEventEntity, AppTokenEntity, AppTokenTombstoneEntity, EndpointRuleEntity];
