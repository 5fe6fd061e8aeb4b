import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Identity } from '../../api';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { IDENTITIES_KEY } from './keys';
import { RoleCheckboxes } from './RoleCheckboxes';

/** Rendered only while open (keyed by identity), so the checkboxes start from that identity's roles. */
export function EditRolesDialog({ identity, onClose }: { identity: Identity; onClose(): void }) {
  const queryClient = useQueryClient();
  const [roles, setRoles] = useState<string[]>(identity.roles);
  const save = useMutation({
    mutationFn: () => api<Identity>(`identity/${identity.id}`, { method: 'PATCH', body: { roles } }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: IDENTITIES_KEY });
      onClose();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <Modal opened onClose={onClose} title={`Edit roles: ${identity.name}`} centered>
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm">
            Takes effect on the identity's next request, with every token it owns: a token keeps only the roles its identity still holds.
          </Text>
          <RoleCheckboxes value={roles} onChange={setRoles} />
          <ApiErrorAlert error={save.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={save.isPending}>Save</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
