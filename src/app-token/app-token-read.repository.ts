import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { TokenView } from './app-token.mapper.js';
import type { SortOrder, TokenSortField } from './dto/app-token.dto.js';

export interface TokenPageFilter {
  skip: number;
  take: number;
  /** Only this identity's tokens (a caller who is not an Administrator). */
  ownerId?: number;
  identityId?: number;
  identityNameKey?: string;
  revoked?: boolean;
  expired?: boolean;
  /** Expires within this many days from now, and has not expired yet. */
  expiresWithinDays?: number;
  /** Last used (or, never used, created) more than this many days ago. */
  unusedForDays?: number;
  /** Holds the role with this folded name. */
  roleNameKey?: string;
  search?: string;
  sort: TokenSortField;
  order: SortOrder;
}

/**
 * The column each sort field orders by (in the page query, `t` is the token and `i` its identity), and where
 * its nulls go: a token that never expires ends last ("latest"), one never used ends first ("earliest").
 */
const SORT_COLUMNS: Record<TokenSortField, { column: string; alias: string; nullsAsLatest: boolean }> = {
  created: { column: 't.created_at', alias: 'created_at', nullsAsLatest: false },
  expiration: { column: 't.expires_at', alias: 'expires_at', nullsAsLatest: true },
  lastUsed: { column: 't.last_used_at', alias: 'last_used_at', nullsAsLatest: false },
  identity: { column: 'i.name_key', alias: 'identity_name_key', nullsAsLatest: false },
  description: { column: 't.description', alias: 'description', nullsAsLatest: false },
};

/** The columns a token's view needs, its identity's beside them (the page's outer query sorts on these names). */
const TOKEN_COLUMNS = `t.id, t.token, t.created_at, t.expires_at, t.revoked_at, t.description, t.last_used_at, t.last_used_address,
       i.id AS identity_id, i.name AS identity_name, i.source AS identity_source, i.name_key AS identity_name_key`;

/** Role names of the token (`p.id`) and of its identity (`p.identity_id`), aggregated in the database. */
const ROLE_COLUMNS = `ARRAY(SELECT r.name FROM app_token_role tr JOIN role r ON r.id = tr.role_id WHERE tr.app_token_id = p.id) AS roles,
       ARRAY(SELECT r.name FROM identity_role ir JOIN role r ON r.id = ir.role_id WHERE ir.identity_id = p.identity_id) AS identity_roles`;

interface TokenRow {
  id: number;
  token: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  description: string;
  last_used_at: Date | null;
  last_used_address: string | null;
  identity_id: number;
  identity_name: string;
  identity_source: string;
  roles: string[];
  identity_roles: string[];
  total?: number;
}

function toView(row: TokenRow): TokenView {
  return {
    id: row.id,
    token: row.token,
    identity: { id: row.identity_id, name: row.identity_name, source: row.identity_source, roles: row.identity_roles },
    roles: row.roles,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    description: row.description,
    lastUsedAt: row.last_used_at,
    lastUsedAddress: row.last_used_address,
  };
}

/**
 * Reads of app tokens for display: one query per page or token, shaped for the answer (roles aggregated in
 * SQL, the total counted in the same query), never an entity graph.
 */
@Injectable()
export class AppTokenReadRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A page of tokens in the order asked for (ties broken by id, so pages never overlap), and how many match in all: one query. */
  async page(filter: TokenPageFilter): Promise<[TokenView[], number]> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where: string[] = [];
    if (filter.ownerId !== undefined) where.push(`t.identity_id = ${param(filter.ownerId)}`);
    if (filter.identityId !== undefined) where.push(`t.identity_id = ${param(filter.identityId)}`);
    if (filter.identityNameKey !== undefined) where.push(`i.name_key = ${param(filter.identityNameKey)}`);
    if (filter.revoked !== undefined) where.push(filter.revoked ? 't.revoked_at <= now()' : '(t.revoked_at IS NULL OR t.revoked_at > now())');
    if (filter.expired !== undefined) where.push(filter.expired ? 't.expires_at <= now()' : '(t.expires_at IS NULL OR t.expires_at > now())');
    if (filter.expiresWithinDays !== undefined) {
      where.push(`(t.expires_at > now() AND t.expires_at <= now() + make_interval(days => ${param(filter.expiresWithinDays)}::int))`);
    }
    if (filter.unusedForDays !== undefined) where.push(`coalesce(t.last_used_at, t.created_at) < now() - make_interval(days => ${param(filter.unusedForDays)}::int)`);
    if (filter.roleNameKey !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM app_token_role tr JOIN role r ON r.id = tr.role_id WHERE tr.app_token_id = t.id AND r.name_key = ${param(filter.roleNameKey)})`);
    }
    if (filter.search) {
      const pattern = param(`%${filter.search.replace(/[\\%_]/g, '\\$&')}%`);
      where.push(`(t.description ILIKE ${pattern} OR i.name ILIKE ${pattern})`);
    }
    const matching = `FROM app_token t JOIN identity i ON i.id = t.identity_id${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    // Every token has its identity (a foreign key, not null): unless a filter reads the identity, count tokens alone.
    const readsIdentity = filter.identityNameKey !== undefined || Boolean(filter.search);
    const counted = readsIdentity ? matching : `FROM app_token t${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    const { column, alias, nullsAsLatest } = SORT_COLUMNS[filter.sort];
    const direction = filter.order === 'asc' ? 'ASC' : 'DESC';
    const nulls = nullsAsLatest === (direction === 'ASC') ? 'NULLS LAST' : 'NULLS FIRST';
    // The page first (a top-N sort, or an index, for the LIMIT), then the roles of its rows only; the total is an
    // uncorrelated subquery, counted once. (count(*) OVER () would sort and buffer every matching row: 0.4 s with
    // 100,000 tokens.)
    const rows = (await this.dataSource.query(
      `SELECT p.*, ${ROLE_COLUMNS}, (SELECT count(*)::int ${counted}) AS total
         FROM (SELECT ${TOKEN_COLUMNS} ${matching}
                ORDER BY ${column} ${direction} ${nulls}, t.id ${direction}
                LIMIT ${param(filter.take)} OFFSET ${param(filter.skip)}) p
        ORDER BY p.${alias} ${direction} ${nulls}, p.id ${direction}`,
      params,
    )) as TokenRow[];
    if (rows.length > 0) return [rows.map(toView), rows[0].total!];
    if (filter.skip === 0) return [[], 0];
    // Past the last page: the rows carried no total.
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total ${counted}`, params.slice(0, -2))) as Array<{ total: number }>;
    return [[], total];
  }

  /** One token, as a view. */
  async getById(id: number): Promise<TokenView | null> {
    const rows = (await this.dataSource.query(
      `SELECT p.*, ${ROLE_COLUMNS} FROM (SELECT ${TOKEN_COLUMNS} FROM app_token t JOIN identity i ON i.id = t.identity_id WHERE t.id = $1) p`,
      [id],
    )) as TokenRow[];
    return rows.length === 0 ? null : toView(rows[0]);
  }
}
