import { Button, Group, Modal, Stack, Textarea, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Role } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { IDENTITIES_KEY } from '../identities/keys';
import { ROLES_KEY } from './useRoles';

const NAME_HINT = 'Up to 64 letters, digits, spaces or . _ -, starting with a letter or digit. Not like a built-in name.';

/**
 * "Add Role" (no role given) or "Edit" of a custom role: PUT /api/v1/role/{name} renames and describes it.
 * Rendered only while open, so its fields start from the role.
 */
export function RoleDialog({ role, onClose }: { role?: Role; onClose(): void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');

  const save = useMutation({
    mutationFn: () =>
      role
        ? api<Role>(`role/${encodeURIComponent(role.name)}`, { method: 'PUT', body: { name, description } })
        : api<Role>('role', { method: 'POST', body: { name, description } }),
    onSuccess: async () => {
      // A rename shows in the identities' role lists too.
      await Promise.all([queryClient.invalidateQueries({ queryKey: ROLES_KEY }), queryClient.invalidateQueries({ queryKey: IDENTITIES_KEY })]);
      onClose();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <Modal opened onClose={onClose} title={role ? `Edit role ${role.name}` : 'Add Role'} centered>
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label="Name"
            description={role ? `${NAME_HINT} Renaming keeps the role on its identities, tokens and endpoint rules.` : NAME_HINT}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            autoComplete="off"
            data-autofocus
          />
          <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} autosize minRows={2} maxRows={6} />
          <ApiErrorAlert error={save.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={save.isPending}>{role ? 'Save' : 'Create'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
