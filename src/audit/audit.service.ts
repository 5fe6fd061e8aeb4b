import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { AuditEventEntity } from './audit-event.entity.js';

export const AuditAction = {
  SigninSucceeded: 'signin.succeeded',
  SigninFailed: 'signin.failed',
  SigninThrottled: 'signin.throttled',
  Signout: 'signout',
  IdentityCreated: 'identity.created',
  IdentityUpdated: 'identity.updated',
  IdentityDeleted: 'identity.deleted',
  RoleCreated: 'role.created',
  RoleUpdated: 'role.updated',
  RoleDeleted: 'role.deleted',
  AdminBootstrapped: 'identity.bootstrapped',
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

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Writes one record; pass the transaction's manager to commit it together with the change it describes. */
  async record(record: AuditRecord, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository(AuditEventEntity) : this.events;
    await repository.insert({
      action: record.action,
      actorIdentityId: record.actor?.identityId ?? null,
      actorName: record.actor?.name ?? null,
      targetIdentityId: record.targetIdentity?.id ?? null,
      targetIdentityName: record.targetIdentity?.name ?? null,
      targetTokenId: record.targetTokenId ?? null,
      address: record.address ?? null,
      // TypeORM's deep-partial type cannot express a jsonb record.
      detail: (record.detail ?? null) as never,
    });
  }
}
