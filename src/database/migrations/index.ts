import { Foundation1795887853819 } from './1795887853819-Foundation.js';
import { SeedBuiltinRoles1795887853820 } from './1795887853820-SeedBuiltinRoles.js';
import { AppTokens1795888580381 } from './1795888580381-AppTokens.js';
import { EndpointRules1795889235121 } from './1795889235121-EndpointRules.js';
import { AppTokenTombstones1795891552626 } from './1795891552626-AppTokenTombstones.js';
import { TokenTombstonesEverywhere1795920494224 } from './1795920494224-TokenTombstonesEverywhere.js';
import { RoleNameSkeletons1795921055500 } from './1795921055500-RoleNameSkeletons.js';
import { ParentTokens1795921585455 } from './1795921585455-ParentTokens.js';
import { ParentTokensCascade1795925829994 } from './1795925829994-ParentTokensCascade.js';
import { TokenListOrder1795940000000 } from './1795940000000-TokenListOrder.js';
import { Webhooks1795950000000 } from './1795950000000-Webhooks.js';
import { TokenExpiryIndex1795951000000 } from './1795951000000-TokenExpiryIndex.js';
import { WebhookEventSources1795952000000 } from './1795952000000-WebhookEventSources.js';
import { WebhookSecretRotation1795953000000 } from './1795953000000-WebhookSecretRotation.js';

/** In order. New migrations: `npm run migration:generate -- src/database/migrations/Name`, then list them here. */
export const MIGRATIONS = [
  Foundation1795887853819,
  SeedBuiltinRoles1795887853820,
  AppTokens1795888580381,
  EndpointRules1795889235121,
  AppTokenTombstones1795891552626,
  TokenTombstonesEverywhere1795920494224,
  RoleNameSkeletons1795921055500,
  ParentTokens1795921585455,
  ParentTokensCascade1795925829994,
  TokenListOrder1795940000000,
  Webhooks1795950000000,
  TokenExpiryIndex1795951000000,
  WebhookEventSources1795952000000,
  WebhookSecretRotation1795953000000,
];
