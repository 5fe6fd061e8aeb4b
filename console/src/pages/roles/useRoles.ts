import { useQuery } from '@tanstack/react-query';
import { api, type Role } from '../../api';

/** The role list (built-in first, as the API orders it); shared by the Roles page and the identity dialogs. */
export const ROLES_KEY = ['roles'] as const;

export function useRoles() {
  return useQuery({ queryKey: ROLES_KEY, queryFn: () => api<Role[]>('role') });
}
