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

/** The server's action names (src/audit AuditAction), by kind; the API's `action` filter also takes a kind's prefix. */
const ACTIONS: { kind: string; prefix: string; names: string[] }[] = [
  { kind: 'App tokens', prefix: 'apptoken.', names: ['granted', 'migrated', 'rotated', 'revoked', 'deleted', 'bulk_revoked', 'bulk_deleted', 'purged'] },
  { kind: 'Identities', prefix: 'identity.', names: ['created', 'updated', 'deleted', 'bootstrapped', 'password_reset'] },
  { kind: 'Roles', prefix: 'role.', names: ['created', 'updated', 'deleted'] },
  { kind: 'Endpoint rules', prefix: 'endpoint.', names: ['created', 'updated', 'deleted'] },
  { kind: 'Sign-in', prefix: 'signin.', names: ['succeeded', 'failed'] },
];

/** Options of the Action filter: "" for all, each kind's prefix ("apptoken."), then its actions; values are what the API takes. */
export const ACTION_OPTIONS = [
  { value: '', label: 'All actions' },
  ...ACTIONS.map(({ kind, prefix, names }) => ({
    group: kind,
    items: [{ value: prefix, label: `${prefix} (all)` }, ...names.map((name) => ({ value: prefix + name, label: prefix + name }))],
  })),
  { group: 'Sessions', items: [{ value: 'signout', label: 'signout' }] },
];

export const AUDIT_KEY = ['audit'] as const;

/** A date input's value (yyyy-mm-dd, the reader's own day) as the ISO instant that day starts or ends. */
export function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00.000'}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
