import { Injectable, NotFoundException } from '@nestjs/common';
import { isAdministrator, type Principal } from '../auth/principal.js';
import { pageWindow } from '../common/pagination.js';
import { identityNameKey } from '../identity/identity-name.js';
import { roleNameKey } from '../role/role-name.js';
import { mayReadStoredValue } from './app-token-policy.js';
import { AppTokenReadRepository, type TokenPageFilter } from './app-token-read.repository.js';
import { appTokenDtoOf, type TokenView } from './app-token.mapper.js';
import type { AppTokenDto, ListTokensQueryDto } from './dto/app-token.dto.js';

/** Lists and shows app tokens to those who may see them (contract §3); changes are AppTokenService's. */
@Injectable()
export class AppTokenQueryService {
  constructor(private readonly reads: AppTokenReadRepository) {}

  async list(actor: Principal, query: ListTokensQueryDto): Promise<[AppTokenDto[], number]> {
    const filter: TokenPageFilter = {
      ...pageWindow(query),
      revoked: query.revoked,
      expired: query.expired,
      expiresWithinDays: query.expiresWithinDays,
      unusedForDays: query.unusedForDays,
      roleNameKey: query.role === undefined ? undefined : roleNameKey(query.role),
      search: query.search,
      sort: query.sort ?? 'created',
      order: query.order ?? 'desc',
    };
    // Whatever the filters say: `identity` naming someone else then matches nothing (an empty page, as PSU's list).
    if (!isAdministrator(actor)) filter.ownerId = actor.identityId;
    if (query.identity !== undefined) {
      if (/^\d+$/.test(query.identity)) {
        const identityId = Number(query.identity);
        if (identityId > 2_147_483_647) return [[], 0];
        filter.identityId = identityId;
      } else filter.identityNameKey = identityNameKey(query.identity);
    }
    const [tokens, total] = await this.reads.page(filter);
    const now = Date.now();
    return [tokens.map((token) => appTokenDtoOf(token, storedValue(actor, token), now)), total];
  }

  async get(actor: Principal, id: number): Promise<AppTokenDto> {
    const token = await this.reads.getById(id);
    if (!token || !(isAdministrator(actor) || token.identity.id === actor.identityId)) throw new NotFoundException(`app token ${id} not found`);
    return appTokenDtoOf(token, storedValue(actor, token));
  }
}

/** The stored value of a token (enhanced security off), for a caller who could use it anyway. */
function storedValue(actor: Principal, token: TokenView): string | null {
  if (token.token === null) return null;
  return mayReadStoredValue(actor, token.roles) ? token.token : null;
}
