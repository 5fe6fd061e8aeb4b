import { Alert } from '@mantine/core';
import type { ReactNode } from 'react';
import { isAdministrator } from '../api';
import { useMe } from '../session';

/** A page for Administrators: others get a message, not a broken page (the API would answer 403 anyway). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const me = useMe();
  if (isAdministrator(me)) return <>{children}</>;
  return (
    <Alert color="yellow" title="Administrators only" role="alert">
      This page is for Administrators. You are signed in as {me.name} ({me.roles.join(', ') || 'no roles'}).
    </Alert>
  );
}
