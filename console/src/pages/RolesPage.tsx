import { Badge, Button, Group, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Role } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { TableScroll } from '../components/TableScroll';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { IDENTITIES_KEY } from './identities/keys';
import { RoleDialog } from './roles/RoleDialog';
import { ROLES_KEY, useRoles } from './roles/useRoles';

type Editing = { role?: Role } | null;

export function RolesPage() {
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [editing, setEditing] = useState<Editing>(null);
  // Kept after closing, so the dialog's text does not vanish during its closing transition.
  const [deleting, setDeleting] = useState<Role | null>(null);
  const [confirming, setConfirming] = useState(false);

  const remove = useMutation({
    mutationFn: (role: Role) => api<void>(`role/${encodeURIComponent(role.name)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await Promise.all([queryClient.invalidateQueries({ queryKey: ROLES_KEY }), queryClient.invalidateQueries({ queryKey: IDENTITIES_KEY })]);
      setConfirming(false);
    },
  });

  function askDelete(role: Role) {
    remove.reset();
    setDeleting(role);
    setConfirming(true);
  }

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2}>Roles</Title>
        <Button onClick={() => setEditing({})}>Add Role</Button>
      </Group>
      <Text size="sm">
        Administrator, Operator and Reader are built in. Custom roles are for your own API endpoints: an endpoint rule lists the roles it admits.
      </Text>
      <ApiErrorAlert error={roles.error} />
      <TableScroll label="Roles table">
        <Table aria-label="Roles" striped highlightOnHover verticalSpacing="xs" miw={560}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Description</Table.Th>
              <Table.Th>Kind</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {roles.isPending && (
              <Table.Tr>
                <Table.Td colSpan={4}>
                  <Loader size="sm" aria-label="Loading roles" />
                </Table.Td>
              </Table.Tr>
            )}
            {roles.data?.map((role) => (
              <Table.Tr key={role.id}>
                <Table.Td id={`role-${role.id}-name`} fw={500}>{role.name}</Table.Td>
                <Table.Td>{role.description || <Text span size="sm">—</Text>}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={role.builtin ? 'gray' : 'blue'} tt="none" style={{ minWidth: 'max-content' }}>{role.builtin ? 'Built-in' : 'Custom'}</Badge>
                </Table.Td>
                <Table.Td>
                  {role.builtin ? (
                    <Text size="sm">Read-only</Text>
                  ) : (
                    <Group gap={6} wrap="nowrap">
                      <Button size="xs" variant="default" aria-describedby={`role-${role.id}-name`} onClick={() => setEditing({ role })}>Edit</Button>
                      <Button size="xs" variant="light" color="red" aria-describedby={`role-${role.id}-name`} onClick={() => askDelete(role)}>Delete</Button>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </TableScroll>

      {editing && <RoleDialog key={editing.role?.id ?? 'new'} role={editing.role} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        opened={confirming}
        title={deleting ? `Delete role ${deleting.name}?` : ''}
        confirmLabel="Delete"
        loading={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setConfirming(false)}
      >
        Identities and app tokens that hold {deleting?.name} lose it at once. A role that an endpoint rule requires cannot be deleted: change the rule first.
      </ConfirmDialog>
    </Stack>
  );
}
