import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { pageWindow } from '../common/pagination.js';
import { SqlPool, type Statement } from '../database/sql-pool.js';
import { identityNameKey } from '../identity/identity-name.js';
import type { AuditEventDto, ListAuditQueryDto } from './dto/audit.dto.js';
import { AuditEventEntity } from './audit-event.entity.js';

export const AuditAction = {
  SigninSucceeded: 'signin.succeeded',
  SigninFailed: 'signin.failed',
  Signout: 'signout',
  IdentityCreated: 'identity.created',
  IdentityUpdated: 'identity.updated',
  IdentityDeleted: 'identity.deleted',
  RoleCreated: 'role.created',
  RoleUpdated: 'role.updated',
  RoleDeleted: 'role.deleted',
  AdminBootstrapped: 'identity.bootstrapped',
  AdminPasswordReset: 'identity.password_reset',
  TokenGranted: 'apptoken.granted',
  TokenMigrated: 'apptoken.migrated',
  TokenRotated: 'apptoken.rotated',
  TokenRevoked: 'apptoken.revoked',
  TokenDeleted: 'apptoken.deleted',
  TokensPurged: 'apptoken.purged',
  /** One event for a whole bulk revoke: the filter, the count and the ids in `detail`. */
  TokensBulkRevoked: 'apptoken.bulk_revoked',
  TokensBulkDeleted: 'apptoken.bulk_deleted',
  EndpointCreated: 'endpoint.created',
  EndpointUpdated: 'endpoint.updated',
  EndpointDeleted: 'endpoint.deleted',
  WebhookCreated: 'webhook.created',
  WebhookUpdated: 'webhook.updated',
  WebhookDeleted: 'webhook.deleted',
  WebhookTested: 'webhook.tested',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

export interface AuditRecord {
  action: AuditAction;
  actor?: Pick<Principal, 'identityId' | 'name'> | { identityId: number | null; name: string | null };
  targetIdentity?: { id: number; name: string };
  targetTokenId?: number;
  address?: string;
  detail?: Record<string, unknown>;
}

const INSERT_EVENT: Statement = {
  name: 'apptoken_insert_audit_event',
  text: `INSERT INTO audit_event (action, actor_identity_id, actor_name, target_identity_id, target_identity_name, target_token_id, address, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
};

@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    private readonly sql: SqlPool,
  ) {}

  async list(query: ListAuditQueryDto): Promise<[AuditEventDto[], number]> {
    if (query.since !== undefined && query.until !== undefined && query.until < query.since) {
      throw new BadRequestException('until must not be before since');
    }
    const { skip, take } = pageWindow(query);
    const builder = this.events.createQueryBuilder('e').orderBy('e.id', 'DESC').skip(skip).take(take);
    if (query.action) {
      if (query.action.endsWith('.')) builder.andWhere('e.action LIKE :prefix', { prefix: `${query.action}%` });
      else builder.andWhere('e.action = :action', { action: query.action });
    }
    if (query.identity !== undefined) builder.andWhere('e.target_identity_id = :identity', { identity: query.identity });
    if (query.token !== undefined) builder.andWhere('e.target_token_id = :token', { token: query.token });
    if (query.since !== undefined) builder.andWhere('e.at >= :since', { since: query.since });
    // Times are shown to the millisecond but stored to the microsecond: `until` covers its whole millisecond, so
    // an event's own `at` finds that event.
    if (query.until !== undefined) builder.andWhere('e.at < :until', { until: new Date(query.until.getTime() + 1) });
    if (query.actor !== undefined) this.whereActor(builder, query.actor);
    const [events, total] = await builder.getManyAndCount();
    return [events.map(toAuditEventDto), total];
  }

  /**
   * The one who did it, by id or name: the identity that holds the name now (renamed since: its earlier events
   * too), or the name recorded at the time (the identity may be gone). Digits are tried as an id as well.
   */
  private whereActor(builder: SelectQueryBuilder<AuditEventEntity>, actor: string): void {
    const id = /^\d{1,10}$/.test(actor) && Number(actor) <= 2_147_483_647 ? Number(actor) : null;
    const params = { actorKey: identityNameKey(actor), actorName: actor, actorId: id };
    const byName = '(e.actor_identity_id IN (SELECT i.id FROM identity i WHERE i.name_key = :actorKey) OR lower(e.actor_name) = lower(:actorName))';
    builder.andWhere(id === null ? byName : `(e.actor_identity_id = :actorId OR ${byName})`, params);
  }

  /** Writes one record; pass the transaction's manager to commit it together with the change it describes. */
  async record(record: AuditRecord, manager?: EntityManager): Promise<void> {
    // A prepared statement: on the grant path, TypeORM's insert builder cost more CPU than the round trip.
    const values = [
      record.action,
      record.actor?.identityId ?? null,
      record.actor?.name ?? null,
      record.targetIdentity?.id ?? null,
      record.targetIdentity?.name ?? null,
      record.targetTokenId ?? null,
      record.address ?? null,
      record.detail === undefined ? null : JSON.stringify(record.detail),
    ];
    if (manager?.queryRunner) await this.sql.rowsIn(manager, INSERT_EVENT, values);
    else await this.sql.rows(INSERT_EVENT, values);
  }
}

export function toAuditEventDto(event: AuditEventEntity): AuditEventDto {
  return {
    id: Number(event.id),
    at: event.at.toISOString(),
    action: event.action,
    actor: event.actorIdentityId === null && event.actorName === null ? null : { id: event.actorIdentityId, name: event.actorName },
    targetIdentity:
      event.targetIdentityId === null && event.targetIdentityName === null ? null : { id: event.targetIdentityId, name: event.targetIdentityName },
    targetTokenId: event.targetTokenId,
    address: event.address,
    detail: event.detail,
  };
}
