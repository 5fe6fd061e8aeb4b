/** An audit record as GET /api/v1/audit returns it. */
export interface AuditEvent {
  id: number;
  at: string;
  action: string;
  actor: { id: number | null; name: string | null } | null;
  targetIdentity: { id: number | null; name: string | null } | null;
  targetTokenId: number | null;
  address: string | null;
  detail: Record<string, unknown> | null;
}

/** The server's action names (src/audit AuditAction), and the prefixes the API's `action` filter takes. */
export const AUDIT_ACTIONS = [
  'apptoken.',
  'apptoken.granted',
  'apptoken.migrated',
  'apptoken.rotated',
  'apptoken.revoked',
  'apptoken.deleted',
  'apptoken.purged',
  'identity.',
  'identity.created',
  'identity.updated',
  'identity.deleted',
  'identity.bootstrapped',
  'identity.password_reset',
  'role.',
  'role.created',
  'role.updated',
  'role.deleted',
  'endpoint.',
  'endpoint.created',
  'endpoint.updated',
  'endpoint.deleted',
  'signin.',
  'signin.succeeded',
  'signin.failed',
  'signout',
];

export const AUDIT_KEY = ['audit'] as const;

/** A date input's value (yyyy-mm-dd, the reader's own day) as the ISO instant that day starts or ends. */
export function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00.000'}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
